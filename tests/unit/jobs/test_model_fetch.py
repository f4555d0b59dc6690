"""A job whose engine needs a model not yet cached: fetched on first use, progress in its events.

And in offline mode the job fails with ``model_unavailable`` and a message that
names the model and the command that fetches it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from tests.unit.jobs.helpers import create_job
from tests.unit.models.conftest import entry_dict, payload, write_manifest
from tests.unit.models.loopback import Mirror, serve
from visiovox.config import ModelSettings, Settings
from visiovox.engines import registry as engine_registry
from visiovox.engines.base import Engine
from visiovox.engines.pool import EnginePool
from visiovox.jobs.model import EventType, Job, JobStatus
from visiovox.jobs.redis_client import JobDomain
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.spec import PipelineSpec
from visiovox.worker.runner import JobRunner
from visiovox.worker.state import WorkerStatus

BODY = payload(3 * 1024 * 1024)


class NoParams(BaseModel):
    """No parameters."""


def use_remote_engine(ctx: RunContext, params: BaseModel) -> None:
    ctx.engine("test.remote", Engine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target


SPEC = PipelineSpec(
    name="t-remote", summary="", params=NoParams, run=f"{__name__}:use_remote_engine"
)


@pytest.fixture(autouse=True)
def remote_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        engine_registry.ENGINES, "test.remote", "tests.unit.engines.pool_engines:RemoteModelEngine"
    )
    monkeypatch.setattr("visiovox.worker.runner.get_spec", lambda name: SPEC)


def run_job(
    settings: Settings, domain: JobDomain, tmp_path: Path, url: str, *, offline: bool
) -> Job:
    source = {"type": "url", "files": {"w.bin": f"{url}/files/w.bin"}}
    manifest = write_manifest(
        tmp_path, [entry_dict(model_id="tiny", files={"w.bin": BODY}, sources=[source])]
    )
    models = ModelSettings(cache_dir=tmp_path / "cache", manifest=manifest, offline=offline)
    settings = settings.model_copy(update={"models": models})
    runner = JobRunner(
        domain=domain,
        pool=EnginePool(settings=settings, device="cpu"),
        status=WorkerStatus(name="w1", device="cpu", queues=["vv.cpu"]),
        progress_max_hz=1000.0,
        cancel_poll_s=0.0,
    )
    create_job(domain, Job(id="j", pipeline="t-remote", owner="o", params={}))
    runner.run("j")
    job = domain.store.get("j")
    assert job is not None
    return job


def test_missing_model_is_fetched_with_progress_in_the_job_events(
    settings: Settings, domain: JobDomain, tmp_path: Path
) -> None:
    with serve(Mirror(files={"/files/w.bin": BODY}, chunk_delay_s=0.002)) as mirror:
        job = run_job(settings, domain, tmp_path, mirror.url, offline=False)
    assert job.status is JobStatus.SUCCEEDED, job.error
    events = domain.events.read_after("j")
    downloads = [
        e.data for e in events if e.type is EventType.PROGRESS and e.data["stage"] == "download"
    ]
    assert downloads, [e.type for e in events]
    assert all("model tiny: w.bin" in d["message"] for d in downloads)
    logs = [e.data["message"] for e in events if e.type is EventType.LOG]
    assert any("model tiny: w.bin fetched and verified" in m for m in logs)


def test_offline_job_fails_naming_the_model_and_the_pull_command(
    settings: Settings, domain: JobDomain, tmp_path: Path
) -> None:
    with serve(Mirror(files={"/files/w.bin": BODY})) as mirror:
        job = run_job(settings, domain, tmp_path, mirror.url, offline=True)
    assert mirror.gets == []
    assert job.status is JobStatus.FAILED and job.error is not None
    assert job.error.code == "model_unavailable"
    assert "model tiny is not available" in job.error.message
    assert "`visiovox models pull tiny`" in job.error.message
