"""Health, readiness, workers, the pipeline catalogue, and the 500 error shape."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.unit.api.conftest import SettingsFactory
from tests.unit.api.helpers import assert_error
from visiovox.api.app import create_app
from visiovox.config import Settings
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.workers import WorkerInfo, WorkerRegistry, WorkerState
from visiovox.pipelines.registry import PIPELINES


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_needs_a_live_worker(
    client: TestClient, domain: JobDomain, settings: Settings
) -> None:
    error = assert_error(client.get("/readyz"), 503, "no_workers")
    assert "worker" in error["message"]
    registry = WorkerRegistry(domain.redis, keys=domain.keys, ttl_s=5)
    registry.publish(
        WorkerInfo(
            name="w1", host="h", pid=1, device="cpu", state=WorkerState.READY, queues=["vv.cpu"]
        )
    )
    assert client.get("/readyz").json() == {"status": "ready", "workers": 1}

    [worker] = client.get("/v1/workers").json()["data"]
    assert worker["name"] == "w1" and worker["state"] == "ready"
    assert worker["queues"] == ["vv.cpu"]
    assert worker["last_seen"].endswith("Z") and worker["started_at"].endswith("Z")
    registry.remove("w1")
    assert client.get("/v1/workers").json() == {"data": []}


def test_pipelines_are_listed_with_their_schemas(client: TestClient) -> None:
    listed = {p["name"]: p for p in client.get("/v1/pipelines").json()["data"]}
    assert set(listed) == set(PIPELINES)
    noop = listed["noop"]
    assert set(noop) == {"name", "summary", "params_schema", "inputs", "devices"}
    assert set(noop["params_schema"]["properties"]) == {"sleep_s", "steps", "write_bytes"}
    assert noop["inputs"] == []
    [stt_input] = listed["stt"]["inputs"]
    assert stt_input["required"] is True
    assert set(stt_input["kinds"]) >= {"audio"}
    swap_inputs = {i["field"]: i for i in listed["face-swap"]["inputs"]}
    assert swap_inputs["reference"]["required"] is False
    assert swap_inputs["reference"]["required_when"] == {"mode": "reference"}
    assert swap_inputs["target"]["required_when"] is None


def test_stt_refuses_text_named_wav(client: TestClient, settings: Settings) -> None:
    listed = {p["name"]: p for p in client.get("/v1/pipelines").json()["data"]}
    [field] = [i["field"] for i in listed["stt"]["inputs"]]
    response = client.post(
        "/v1/jobs/stt", files={field: ("speech.wav", b"just some text\n" * 40, "audio/wav")}
    )
    error = assert_error(response, 415, "unsupported_media_type")
    assert "audio" in error["message"]
    jobs_root = settings.storage.root / "jobs"
    assert not jobs_root.exists() or not any(jobs_root.iterdir())


def test_unexpected_errors_are_500_in_the_error_shape(make_settings: SettingsFactory) -> None:
    app = create_app(make_settings())

    async def explode() -> None:
        raise RuntimeError("secret detail")

    app.add_api_route("/boom", explode)
    with TestClient(app, raise_server_exceptions=False) as client:
        error = assert_error(client.get("/boom"), 500, "internal_error")
    assert "secret" not in error["message"]
