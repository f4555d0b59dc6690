"""SSE and WebSocket clients get every event in order, and resume after a reconnect."""

from __future__ import annotations

import json
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.integration.stack import Stack, wait_for_job

EXPECTED_START = ["queued", "started"]


def read_sse(
    client: httpx.Client, job_id: str, *, last_event_id: str | None = None
) -> list[dict[str, Any]]:
    """Every event of the stream until the server closes it after the terminal one."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    events: list[dict[str, Any]] = []
    with client.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if line == "":
                if "data" in fields:
                    event = json.loads(fields["data"])
                    assert event["id"] == fields["id"]
                    assert event["type"] == fields["event"]
                    events.append(event)
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
    return events


def read_ws(
    stack: Stack, job_id: str, *, owner: str, after: str | None = None
) -> list[dict[str, Any]]:
    url = stack.ws_url(f"/v1/jobs/{job_id}/ws")
    if after:
        url += f"?after={after}"
    headers = {"Authorization": f"Bearer {stack.api_keys[owner]}"}
    events: list[dict[str, Any]] = []
    with connect(url, additional_headers=headers, open_timeout=10) as socket:
        for message in socket:
            events.append(json.loads(message))
    return events


def assert_ordered(events: list[dict[str, Any]]) -> None:
    ids = [tuple(int(part) for part in e["id"].split("-")) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def submit_noop(client: httpx.Client, *, sleep_s: float, steps: int) -> str:
    response = client.post("/v1/jobs/noop", data={"sleep_s": str(sleep_s), "steps": str(steps)})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_sse_gets_every_event_in_order_and_resumes(stack: Stack) -> None:
    with stack.client("alice") as client:
        job_id = submit_noop(client, sleep_s=1.0, steps=10)
        live = read_sse(client, job_id)
        wait_for_job(client, job_id)
        everything = read_sse(client, job_id)
        assert live == everything
        assert [e["type"] for e in live[:2]] == EXPECTED_START
        assert live[-1]["type"] == "succeeded"
        assert [e["data"]["percent"] for e in live if e["type"] == "progress"][-1] == 100.0
        assert_ordered(live)
        cut = len(live) // 2
        rest = read_sse(client, job_id, last_event_id=live[cut - 1]["id"])
        assert rest == live[cut:]


def test_websocket_gets_every_event_in_order_and_resumes(stack: Stack) -> None:
    with stack.client("alice") as client:
        job_id = submit_noop(client, sleep_s=1.0, steps=10)
        live = read_ws(stack, job_id, owner="alice")
        assert [e["type"] for e in live[:2]] == EXPECTED_START
        assert live[-1]["type"] == "succeeded"
        assert_ordered(live)
        assert live == read_sse(client, job_id)
        cut = len(live) // 2
        assert read_ws(stack, job_id, owner="alice", after=live[cut - 1]["id"]) == live[cut:]


def test_another_owner_cannot_follow_events(stack: Stack) -> None:
    with stack.client("alice") as alice, stack.client("bob") as bob:
        job_id = submit_noop(alice, sleep_s=0, steps=1)
        response = bob.get(f"/v1/jobs/{job_id}/events")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "job_not_found"
