"""A worker rides out a Redis outage: the job neither fails nor ends before Redis answers."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
from pydantic import BaseModel

from tests.unit.jobs.helpers import create_job
from visiovox.config import Settings, load_settings
from visiovox.embedded_redis import EmbeddedRedis
from visiovox.engines.pool import EnginePool
from visiovox.jobs.model import EventType, Job, JobStatus
from visiovox.jobs.redis_client import JobDomain, build_domain
from visiovox.pipelines import registry
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.spec import PipelineSpec
from visiovox.worker.redis_outage import until_redis_answers
from visiovox.worker.runner import JobRunner
from visiovox.worker.state import WorkerStatus


def test_retries_while_redis_is_unreachable_with_a_capped_back_off() -> None:
    calls: list[int] = []
    delays: list[float] = []

    def call() -> str:
        calls.append(1)
        if len(calls) < 7:
            raise redis.ConnectionError("Connection closed by server.")
        return "answered"

    assert until_redis_answers(call, what="testing", sleep=delays.append) == "answered"
    assert delays == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0]


def test_errors_other_than_an_outage_are_not_retried() -> None:
    def call() -> None:
        raise redis.ResponseError("NOSCRIPT")

    with pytest.raises(redis.ResponseError):
        until_redis_answers(call, what="testing", sleep=lambda _: None)


def make_settings(url: str, root: Path) -> Settings:
    return load_settings(
        redis={"url": url, "prefix": f"t{uuid.uuid4().hex[:8]}", "connect_timeout_s": 0.2},
        storage={"root": root / "data", "retention_s": 3600},
        jobs={"lease_s": 10, "progress_max_hz": 50, "cancel_poll_s": 0},
    )


def make_runner(settings: Settings, domain: JobDomain) -> JobRunner:
    return JobRunner(
        domain=domain,
        pool=EnginePool(settings=settings, device="cpu"),
        status=WorkerStatus(name="w1", device="cpu", queues=["vv.cpu"]),
        progress_max_hz=settings.jobs.progress_max_hz,
        cancel_poll_s=settings.jobs.cancel_poll_s,
    )


def test_a_job_running_across_a_redis_restart_succeeds_once(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis", persist=True).start()
    try:
        settings = make_settings(server.url, tmp_path)
        domain = build_domain(settings)
        runner = make_runner(settings, domain)
        create_job(
            domain, Job(id="j", pipeline="noop", owner="o", params={"sleep_s": 0.6, "steps": 12})
        )
        thread = threading.Thread(target=runner.run, args=("j",))
        thread.start()
        while (job := domain.store.get("j")) is not None and job.status is JobStatus.QUEUED:
            time.sleep(0.01)

        server.stop()
        # Down past the job's end: progress, the cancel poll and the outcome all meet it.
        time.sleep(1.0)
        assert thread.is_alive(), "the task returned (and Celery would ack) without Redis"
        server.start()
        thread.join(timeout=10)
        assert not thread.is_alive()

        job = domain.store.get("j")
        assert job is not None
        assert (job.status, job.attempts, job.error) == (JobStatus.SUCCEEDED, 1, None)
        types = [event.type for event in domain.events.read_after("j")]
        assert types.count(EventType.SUCCEEDED) == 1
        assert EventType.FAILED not in types
    finally:
        server.stop()


class NoParams(BaseModel):
    """No parameters."""


def lose_redis(ctx: RunContext, params: BaseModel) -> None:
    raise redis.ConnectionError("Error 111 connecting to redis. Connection refused.")


def test_an_attempt_cut_by_an_outage_is_handed_back_not_failed(
    redis_server: EmbeddedRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = PipelineSpec(
        name="t-lose-redis", summary="", params=NoParams, run=f"{__name__}:lose_redis"
    )
    original = registry.get_spec
    monkeypatch.setattr(
        "visiovox.worker.runner.get_spec",
        lambda name: spec if name == spec.name else original(name),
    )
    settings = make_settings(redis_server.url, tmp_path)
    domain = build_domain(settings)
    create_job(domain, Job(id="j", pipeline=spec.name, owner="o"))

    make_runner(settings, domain).run("j")

    job = domain.store.get("j")
    assert job is not None and (job.status, job.error) == (JobStatus.RUNNING, None)
    assert not domain.redis.exists(domain.keys.lease("j"))  # given up: no lease to wait out
    assert domain.store.requeue_if_lease_expired("j") == "requeued"  # the janitor's next sweep
    types = [event.type for event in domain.events.read_after("j")]
    assert EventType.FAILED not in types
