"""The ``webhook`` and ``webhook_events`` options of a submission: 422s and the job record.

With ``allow_private`` off (the default) a literal private, loopback or
metadata address is refused at submission, before any job exists; nothing
is sent anywhere (no worker runs here, so no job completes).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.helpers import assert_error
from visiovox.jobs.redis_client import JobDomain


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/hook",
        "https://[::1]/hook",
        "http://hooks.example/hook",
        "ftp://hooks.example/hook",
        "https://user:pw@hooks.example/hook",
        "https:///hook",
        "https://hooks.example/" + "a" * 2100,
    ],
)
def test_a_bad_webhook_url_is_422(client: TestClient, url: str) -> None:
    response = client.post("/v1/jobs/noop", data={"webhook": url})
    assert_error(response, 422, "invalid_webhook")


@pytest.mark.parametrize(
    "data",
    [
        {"webhook": "https://hooks.example/h", "webhook_events": "completed,finished"},
        {"webhook": "https://hooks.example/h", "webhook_events": " , "},
        {"webhook_events": "completed"},
    ],
)
def test_bad_webhook_events_are_422(client: TestClient, data: dict[str, str]) -> None:
    assert_error(client.post("/v1/jobs/noop", data=data), 422, "invalid_webhook_events")


def test_a_json_list_of_events_must_be_strings(client: TestClient) -> None:
    body = {"webhook": "https://hooks.example/h", "webhook_events": [1]}
    assert_error(client.post("/v1/jobs/noop", json=body), 422, "invalid_webhook_events")


def test_the_job_shows_the_url_without_its_query_and_keeps_it_whole(
    client: TestClient, domain: JobDomain
) -> None:
    data = {
        "webhook": "https://hooks.example/h?token=s3cret",
        "webhook_events": ["output", "started,output"],
    }
    response = client.post("/v1/jobs/noop", data=data)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["webhook"] == "https://hooks.example/h"
    assert job["webhook_events"] == ["output", "started"]
    assert "s3cret" not in client.get(f"/v1/jobs/{job['id']}").text
    stored = domain.store.get(job["id"])
    assert stored is not None and stored.webhook == data["webhook"]
    assert stored.params == {"sleep_s": 0.0, "steps": 1, "write_bytes": 0}


def test_without_a_webhook_the_job_has_none(client: TestClient) -> None:
    job = client.post("/v1/jobs/noop", json={}).json()
    assert job["webhook"] is None and job["webhook_events"] == []


def test_the_log_of_a_job_without_webhooks_is_empty_and_redeliver_is_409(
    client: TestClient,
) -> None:
    job_id = client.post("/v1/jobs/noop", json={}).json()["id"]
    log = client.get(f"/v1/jobs/{job_id}/webhooks").json()
    assert log == {"webhook": None, "webhook_events": [], "data": []}
    assert_error(client.post(f"/v1/jobs/{job_id}/webhooks/redeliver"), 409, "job_not_finished")
    assert_error(client.get("/v1/jobs/" + "0" * 32 + "/webhooks"), 404, "job_not_found")


def test_the_openai_facades_take_the_webhook_options_through_the_same_door(
    client: TestClient,
) -> None:
    chat = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "webhook": "https://10.0.0.1/hook",
    }
    assert_error(client.post("/v1/chat/completions", json=chat), 422, "invalid_webhook")
    speech = {"model": "m", "input": "hi", "voice": "alloy", "webhook": "https://h.example/h"}
    speech["webhook_events"] = "x"
    assert_error(client.post("/v1/audio/speech", json=speech), 422, "invalid_webhook_events")


def test_an_assistant_turn_takes_the_webhook_options(client: TestClient) -> None:
    session = client.post("/v1/assistant/sessions").json()["id"]
    turns = f"/v1/assistant/sessions/{session}/turns"
    refused = client.post(turns, data={"text": "hi", "webhook": "https://169.254.169.254/"})
    assert_error(refused, 422, "invalid_webhook")
    events = {"text": "hi", "webhook": "https://hooks.example/h", "webhook_events": "done"}
    assert_error(client.post(turns, data=events), 422, "invalid_webhook_events")
