"""The worker's JobRunner in-process on a real Redis: outcomes, outputs, progress, cancel."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.unit.jobs import failing_pipelines
from tests.unit.jobs.helpers import create_job
from visiovox.config import Settings
from visiovox.engines.pool import EnginePool
from visiovox.jobs.model import EventType, Job, JobStatus
from visiovox.jobs.redis_client import JobDomain
from visiovox.pipelines import registry
from visiovox.pipelines.spec import PipelineSpec
from visiovox.worker.memory import MIB, MemoryCeiling, rss_bytes
from visiovox.worker.runner import JobRunner
from visiovox.worker.state import WorkerStatus


@pytest.fixture(autouse=True)
def test_pipelines(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    specs = {
        name: getattr(failing_pipelines, attr)
        for attr in ("PIPELINE_ERROR", "MEDIA_ERROR", "CRASH", "OUTPUT", "HOG")
        for name in [getattr(failing_pipelines, attr).name]
    }
    original = registry.get_spec

    def get_spec(name: str) -> PipelineSpec:
        return specs[name] if name in specs else original(name)

    monkeypatch.setattr("visiovox.worker.runner.get_spec", get_spec)
    yield


@pytest.fixture
def runner(settings: Settings, domain: JobDomain) -> JobRunner:
    return JobRunner(
        domain=domain,
        pool=EnginePool(settings=settings, device="cpu"),
        status=WorkerStatus(name="w1", device="cpu", queues=["vv.cpu"]),
        progress_max_hz=settings.jobs.progress_max_hz,
        cancel_poll_s=0.0,
    )


def run(
    domain: JobDomain, runner: JobRunner, pipeline: str, params: dict[str, object] | None = None
) -> Job:
    create_job(domain, Job(id="j", pipeline=pipeline, owner="o", params=params or {}))
    runner.run("j")
    job = domain.store.get("j")
    assert job is not None
    return job


def test_success_records_outputs_result_and_throttled_progress(
    domain: JobDomain, runner: JobRunner
) -> None:
    job = run(domain, runner, "t-output")
    assert job.status is JobStatus.SUCCEEDED
    assert [o.name for o in job.outputs] == ["hello.txt"]
    assert job.result == {"written": 1}
    assert job.progress.percent == 100.0
    types = [e.type for e in domain.events.read_after("j")]
    assert types[:3] == [EventType.QUEUED, EventType.STARTED, EventType.STAGE]
    assert EventType.OUTPUT in types and types[-1] is EventType.SUCCEEDED
    assert types.count(EventType.PROGRESS) <= 2  # 100 calls within one throttle window


def test_pipeline_error_fails_with_its_code(domain: JobDomain, runner: JobRunner) -> None:
    job = run(domain, runner, "t-error")
    assert job.status is JobStatus.FAILED
    assert job.error is not None and job.error.code == "no_speech"


def test_a_stray_media_error_fails_with_its_own_code(domain: JobDomain, runner: JobRunner) -> None:
    job = run(domain, runner, "t-media")
    assert job.status is JobStatus.FAILED
    assert job.error is not None and job.error.code == "truncated_media"
    assert job.error.message == "the audio stops at 0.2 s of a declared 3.0 s"


def test_crash_fails_the_job_not_the_worker(domain: JobDomain, runner: JobRunner) -> None:
    job = run(domain, runner, "t-crash")
    assert job.status is JobStatus.FAILED
    assert job.error is not None and job.error.code == "internal_error"
    assert "boom" in job.error.message


def test_invalid_stored_params_fail_cleanly(domain: JobDomain, runner: JobRunner) -> None:
    job = run(domain, runner, "noop", {"sleep_s": -5})
    assert job.status is JobStatus.FAILED
    assert job.error is not None and job.error.code == "invalid_job"


def test_cancel_stops_a_running_job(domain: JobDomain, runner: JobRunner) -> None:
    create_job(
        domain, Job(id="j", pipeline="noop", owner="o", params={"sleep_s": 20, "steps": 200})
    )
    thread = threading.Thread(target=runner.run, args=("j",))
    thread.start()
    while (job := domain.store.get("j")) is not None and job.status is JobStatus.QUEUED:
        time.sleep(0.01)
    asked = time.monotonic()
    domain.store.request_cancel("j")
    thread.join(timeout=5)
    assert time.monotonic() - asked < 1.0
    job = domain.store.get("j")
    assert job is not None and job.status is JobStatus.CANCELED


def test_duplicate_delivery_is_dropped(domain: JobDomain, runner: JobRunner) -> None:
    run(domain, runner, "noop")
    runner.run("j")
    types = [e.type for e in domain.events.read_after("j")]
    assert types.count(EventType.STARTED) == 1


def test_a_job_past_the_memory_ceiling_fails_and_the_worker_asks_to_recycle(
    settings: Settings, domain: JobDomain
) -> None:
    recycled: list[bool] = []
    ceiling = MemoryCeiling(limit_bytes=rss_bytes() + 150 * MIB)
    runner = JobRunner(
        domain=domain,
        pool=EnginePool(settings=settings, device="cpu"),
        status=WorkerStatus(name="w1", device="cpu", queues=["vv.cpu"]),
        progress_max_hz=settings.jobs.progress_max_hz,
        cancel_poll_s=0.0,
        memory=ceiling,
        on_recycle=lambda: recycled.append(True),
    )
    job = run(domain, runner, "noop")
    assert job.status is JobStatus.SUCCEEDED and recycled == []

    create_job(domain, Job(id="hog", pipeline="t-hog", owner="o"))
    runner.run("hog")
    job = domain.store.get("hog")
    assert job is not None and job.status is JobStatus.FAILED
    assert job.error is not None and job.error.code == "resource_exhausted"
    assert "worker.max_rss_mb" in job.error.message
    assert recycled == [True]
    # The ballast was freed and handed back to the system after the job.
    assert rss_bytes() < ceiling.limit_bytes
