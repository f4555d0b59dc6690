"""SSE and WebSocket: events arrive in order while connected, and a resume gets exactly the rest."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.unit.api.conftest import SettingsFactory
from tests.unit.api.helpers import assert_error
from visiovox.api.app import create_app
from visiovox.jobs.apikeys import ApiKeyStore
from visiovox.jobs.model import EventType, JobStatus, Progress
from visiovox.jobs.redis_client import JobDomain, build_domain

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def sse_events(lines: Iterator[str], count: int | None = None) -> list[dict[str, Any]]:
    """Parse SSE frames from ``lines`` until ``count`` events or the end of the stream."""
    events: list[dict[str, Any]] = []
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in fields:
                event = json.loads(fields["data"])
                assert event["id"] == fields["id"] and event["type"] == fields["event"]
                events.append(event)
                if count is not None and len(events) == count:
                    return events
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
    return events


def submit(client: TestClient) -> str:
    return str(client.post("/v1/jobs/noop", json={}).json()["id"])


def run_to_success(domain: JobDomain, job_id: str) -> None:
    """What a worker does: claim, report progress, finish."""
    assert domain.store.claim(job_id, "w1").outcome.value == "claimed"
    for percent in (25.0, 50.0, 75.0):
        domain.events.append(job_id, EventType.PROGRESS, {"percent": percent})
    domain.store.set_progress(job_id, Progress(percent=100.0))
    domain.store.finish(job_id, worker="w1", status=JobStatus.SUCCEEDED, result={"ok": True})


def test_sse_streams_live_events_in_order_and_resumes(
    client: TestClient, domain: JobDomain
) -> None:
    job_id = submit(client)
    url = f"/v1/jobs/{job_id}/events"
    with client.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        lines = response.iter_lines()
        [queued] = sse_events(lines, 1)
        assert queued["type"] == "queued" and queued["data"] == {
            "queue": f"{domain.keys.prefix}.cpu",
            "priority": "normal",
        }
        assert ISO_UTC.match(queued["ts"])
        run_to_success(domain, job_id)
        rest = sse_events(lines)
    stored = domain.events.read_after(job_id)
    assert [queued["id"]] + [e["id"] for e in rest] == [e.id for e in stored]
    assert [e["type"] for e in rest] == ["started", "progress", "progress", "progress", "succeeded"]
    assert [e["data"].get("percent") for e in rest[1:4]] == [25.0, 50.0, 75.0]

    ids = [e.id for e in stored]
    with client.stream("GET", url, headers={"Last-Event-ID": ids[1]}) as again:
        assert [e["id"] for e in sse_events(again.iter_lines())] == ids[2:]
    with client.stream("GET", url, params={"after": ids[3]}) as again:
        assert [e["id"] for e in sse_events(again.iter_lines())] == ids[4:]
    with client.stream("GET", url, headers={"Last-Event-ID": ids[-1]}) as done:
        assert list(done.iter_lines()) == []


def test_sse_sends_keepalives_and_ends_on_cancel(client: TestClient, domain: JobDomain) -> None:
    job_id = submit(client)
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as response:
        lines = response.iter_lines()
        assert sse_events(lines, 1)[0]["type"] == "queued"
        assert next(line for line in lines if line) == ": keep-alive"
        domain.store.request_cancel(job_id)
        assert [e["type"] for e in sse_events(lines)] == ["canceled"]


def test_sse_errors(client: TestClient) -> None:
    assert_error(client.get("/v1/jobs/feedface/events"), 404, "job_not_found")
    job_id = submit(client)
    response = client.get(f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": "drop table"})
    assert_error(response, 400, "invalid_event_id")


def test_websocket_streams_live_events_and_resumes(client: TestClient, domain: JobDomain) -> None:
    job_id = submit(client)
    received: list[dict[str, Any]] = []
    with client.websocket_connect(f"/v1/jobs/{job_id}/ws") as socket:
        received.append(socket.receive_json())
        assert received[0]["type"] == "queued"
        run_to_success(domain, job_id)
        for _ in range(5):
            received.append(socket.receive_json())
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 1000
    ids = [e.id for e in domain.events.read_after(job_id)]
    assert [e["id"] for e in received] == ids
    assert received[-1]["type"] == "succeeded" and ISO_UTC.match(received[-1]["ts"])

    with client.websocket_connect(f"/v1/jobs/{job_id}/ws?after={ids[2]}") as socket:
        rest = [socket.receive_json() for _ in ids[3:]]
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 1000
    assert [e["id"] for e in rest] == ids[3:]


def close_code(client: TestClient, url: str, **kwargs: Any) -> int:
    with client.websocket_connect(url, **kwargs) as socket, pytest.raises(WebSocketDisconnect) as e:
        socket.receive_json()
    return e.value.code


def test_websocket_refusals_use_close_codes(make_settings: SettingsFactory) -> None:
    settings = make_settings(auth={"enabled": "on"})
    domain = build_domain(settings)
    keys = ApiKeyStore(domain.redis, keys=domain.keys)
    alice, bob = keys.create("alice"), keys.create("bob")
    with TestClient(create_app(settings)) as client:
        job_id = client.post(
            "/v1/jobs/noop", json={}, headers={"Authorization": f"Bearer {alice}"}
        ).json()["id"]
        url = f"/v1/jobs/{job_id}/ws"
        assert close_code(client, url) == 4401
        assert close_code(client, f"{url}?api_key=vvk_wrong") == 4401
        assert close_code(client, f"{url}?api_key={bob}") == 4404
        assert close_code(client, f"{url}?api_key={alice}&after=nope") == 4400
        assert close_code(client, "/v1/jobs/feedface/ws", headers={"X-API-Key": alice}) == 4404
        with client.websocket_connect(f"{url}?api_key={alice}") as socket:
            assert socket.receive_json()["type"] == "queued"
