"""POST /v1/jobs/{pipeline}: params in every body format, the 202 answer, the Celery message."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import redis
from fastapi.testclient import TestClient

from tests.unit.api.helpers import assert_error
from visiovox.config import Settings
from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.model import EventType
from visiovox.jobs.queues import queue_lists, shared_queue
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.task_message import RUN_JOB_TASK

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
JOB_KEYS = {
    "id",
    "pipeline",
    "status",
    "priority",
    "created_at",
    "started_at",
    "finished_at",
    "progress",
    "params",
    "inputs",
    "outputs",
    "result",
    "error",
    "attempts",
    "worker",
    "webhook",
    "webhook_events",
}


def cpu_queue(domain: JobDomain) -> str:
    """The CPU queue of the test's deployment (named by its prefix)."""
    return shared_queue("cpu", prefix=domain.keys.prefix)


def queued_job_ids(domain: JobDomain) -> list[str]:
    """The job ids of the ``run_job`` messages waiting in the CPU queue's Redis lists."""
    ids = []
    client: redis.Redis = domain.redis
    for raw in (m for name in queue_lists(cpu_queue(domain)) for m in client.lrange(name, 0, -1)):
        message = json.loads(raw)
        assert message["headers"]["task"] == RUN_JOB_TASK
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        ids.append(args[0])
    return ids


def test_submit_answers_202_with_the_job_and_sends_one_task(
    client: TestClient, domain: JobDomain
) -> None:
    before = Dispatcher(domain.redis).depth(cpu_queue(domain))
    response = client.post("/v1/jobs/noop", json={"sleep_s": 0.5, "steps": 5})
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    assert set(job) == JOB_KEYS
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert re.fullmatch(r"[0-9a-f]{32}", job["id"])
    assert job["pipeline"] == "noop"
    assert job["status"] == "queued"
    assert ISO_UTC.match(job["created_at"])
    assert job["started_at"] is None and job["finished_at"] is None
    assert job["progress"] == {"percent": 0.0, "stage": None, "message": None}
    assert job["params"] == {"sleep_s": 0.5, "steps": 5, "write_bytes": 0}
    assert job["inputs"] == [] and job["outputs"] == []
    assert job["result"] is None and job["error"] is None
    assert job["attempts"] == 0 and job["worker"] is None

    assert Dispatcher(domain.redis).depth(cpu_queue(domain)) == before + 1
    assert job["id"] in queued_job_ids(domain)
    stored = domain.store.get(job["id"])
    assert stored is not None and stored.owner == "anonymous" and stored.queue == cpu_queue(domain)
    assert [e.type for e in domain.events.read_after(job["id"])] == [EventType.QUEUED]


def test_params_come_from_urlencoded_multipart_or_no_body(client: TestClient) -> None:
    form = client.post("/v1/jobs/noop", data={"sleep_s": "1.5", "steps": "3"})
    assert form.status_code == 202, form.text
    assert form.json()["params"] == {"sleep_s": 1.5, "steps": 3, "write_bytes": 0}

    multipart = client.post("/v1/jobs/noop", files={"steps": (None, "7")}, data={"sleep_s": "0.25"})
    assert multipart.status_code == 202, multipart.text
    assert multipart.json()["params"] == {"sleep_s": 0.25, "steps": 7, "write_bytes": 0}

    empty = client.post("/v1/jobs/noop")
    assert empty.status_code == 202, empty.text
    assert empty.json()["params"] == {"sleep_s": 0.0, "steps": 1, "write_bytes": 0}


def test_invalid_params_name_the_field(client: TestClient) -> None:
    error = assert_error(client.post("/v1/jobs/noop", json={"steps": 0}), 422, "invalid_params")
    assert "steps" in error["message"]
    error = assert_error(
        client.post("/v1/jobs/noop", data={"sleep_s": "soon"}), 422, "invalid_params"
    )
    assert "sleep_s" in error["message"]
    error = assert_error(client.post("/v1/jobs/noop", json={"sleeps": 1}), 422, "invalid_params")
    assert "sleeps" in error["message"]


def test_bad_bodies_are_rejected(client: TestClient) -> None:
    assert_error(
        client.post(
            "/v1/jobs/noop", content=b"{nope", headers={"content-type": "application/json"}
        ),
        400,
        "invalid_json",
    )
    assert_error(client.post("/v1/jobs/noop", json=[1, 2]), 400, "invalid_json")
    assert_error(
        client.post("/v1/jobs/noop", content=b"hello", headers={"content-type": "text/plain"}),
        415,
        "unsupported_content_type",
    )
    assert_error(
        client.post(
            "/v1/jobs/noop", content=b"--x\r\n", headers={"content-type": "multipart/form-data"}
        ),
        400,
        "invalid_multipart",
    )


def test_unknown_pipeline_is_404(client: TestClient) -> None:
    error = assert_error(client.post("/v1/jobs/teleport", json={}), 404, "unknown_pipeline")
    assert "teleport" in error["message"]


def test_idempotency_key_returns_the_first_job_and_dispatches_once(
    client: TestClient, domain: JobDomain
) -> None:
    headers = {"Idempotency-Key": "order-42"}
    before = Dispatcher(domain.redis).depth(cpu_queue(domain))
    first = client.post("/v1/jobs/noop", json={"steps": 2}, headers=headers)
    again = client.post("/v1/jobs/noop", data={"steps": "2"}, headers=headers)
    other = client.post("/v1/jobs/noop", json={"steps": 2}, headers={"Idempotency-Key": "x"})
    assert first.status_code == again.status_code == other.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert other.json()["id"] != first.json()["id"]
    assert Dispatcher(domain.redis).depth(cpu_queue(domain)) == before + 2
    assert queued_job_ids(domain).count(first.json()["id"]) == 1
    too_long = client.post("/v1/jobs/noop", json={}, headers={"Idempotency-Key": "k" * 256})
    assert_error(too_long, 400, "invalid_idempotency_key")


def test_routes_that_do_not_exist_answer_the_error_shape(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    assert_error(client.put("/v1/jobs/noop"), 405, "method_not_allowed")


def test_settings_default_to_the_process_settings(settings: Settings) -> None:
    from visiovox.api.app import create_app

    app = create_app()
    assert app.state.settings is not None
    assert create_app(settings).state.settings is settings
