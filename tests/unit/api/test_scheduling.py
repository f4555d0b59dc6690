"""Placement at submission: no capable worker, the queue-depth cap, priorities, affinity."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.unit.api.conftest import SettingsFactory
from tests.unit.api.helpers import assert_error
from visiovox.api.app import create_app
from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.queues import Priority, priority_list
from visiovox.jobs.redis_client import JobDomain, build_domain
from visiovox.jobs.task_message import job_id_of
from visiovox.jobs.workers import WorkerInfo, WorkerRegistry, WorkerState


def register(domain: JobDomain, name: str, *, device: str = "cpu", **fields: object) -> None:
    info = WorkerInfo(name=name, host="h", pid=1, device=device, state=WorkerState.READY)
    WorkerRegistry(domain.redis, keys=domain.keys, ttl_s=5).publish(info.model_copy(update=fields))


def test_gpu_only_pipeline_with_only_cpu_workers_is_refused_at_once(
    client: TestClient, domain: JobDomain
) -> None:
    register(domain, "c1")
    response = client.post("/v1/jobs/noop-gpu", data={"sleep_s": "0"})
    error = assert_error(response, 503, "no_capable_worker")
    assert "gpu" in error["message"] and "noop-gpu" in error["message"]
    assert response.headers["retry-after"] == "5"
    assert client.post("/v1/jobs/noop", data={"sleep_s": "0"}).status_code == 202


def test_gpu_only_pipeline_is_queued_for_a_gpu_worker(
    client: TestClient, domain: JobDomain
) -> None:
    register(domain, "c1")
    register(domain, "g1", device="cuda:1")
    job = client.post("/v1/jobs/noop-gpu", data={"sleep_s": "0"}).json()
    assert job["id"] in Dispatcher(domain.redis).drain_queue(f"{domain.keys.prefix}.gpu")


def test_queue_cap_answers_429_with_retry_after(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        scheduler={"max_queued": 100, "max_queued_by_pipeline": {"noop": 2}, "retry_after_s": 7}
    )
    with TestClient(create_app(settings)) as client:
        for _ in range(2):
            assert client.post("/v1/jobs/noop", json={}).status_code == 202
        response = client.post("/v1/jobs/noop", json={})
        error = assert_error(response, 429, "queue_full")
        assert "noop" in error["message"] and "cap 2" in error["message"]
        assert response.headers["retry-after"] == "7"
        queued = client.get("/v1/jobs", params={"pipeline": "noop"}).json()["data"]
        assert len(queued) == 2
        client.delete(f"/v1/jobs/{queued[0]['id']}")
        assert client.post("/v1/jobs/noop", json={}).status_code == 202


def test_priority_is_a_submission_option(client: TestClient, domain: JobDomain) -> None:
    response = client.post("/v1/jobs/noop", data={"sleep_s": "0", "priority": "high"})
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["priority"] == "high" and "priority" not in job["params"]
    messages = domain.redis.lrange(priority_list(f"{domain.keys.prefix}.cpu", Priority.HIGH), 0, -1)
    assert job["id"] in [job_id_of(m) for m in messages]
    assert client.post("/v1/jobs/noop", json={"priority": "low"}).json()["priority"] == "low"
    assert client.post("/v1/jobs/noop", json={}).json()["priority"] == "normal"
    error = assert_error(
        client.post("/v1/jobs/noop", json={"priority": "urgent"}), 422, "invalid_params"
    )
    assert "priority" in error["message"]


def test_no_pipeline_declares_the_priority_option() -> None:
    from visiovox.pipelines.registry import all_specs

    assert all("priority" not in spec.params.model_fields for spec in all_specs())


def test_repeat_job_goes_to_the_idle_worker_with_its_engine(
    client: TestClient, domain: JobDomain
) -> None:
    register(domain, "cold")
    register(domain, "warm", engines=[{"name": "tts.piper", "loaded": True}])
    job = client.post("/v1/jobs/tts", data={"text": "Hello."}).json()
    assert job["priority"] == "normal"
    stored = build_domain(client.app.state.settings).store.get(job["id"])  # type: ignore[attr-defined]
    assert stored is not None and stored.queue == f"{domain.keys.prefix}.worker.warm"
    assert Dispatcher(domain.redis).drain_queue(f"{domain.keys.prefix}.worker.warm") == [job["id"]]
