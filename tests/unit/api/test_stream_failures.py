"""A stream that breaks after it started ends cleanly and says why.

WebSocket: a last ``{"error": ...}`` message, then 1013 (Redis unreachable or
busy: reconnect with ``after``) or 1011 (a bug), never an unhandled
``ExceptionGroup`` (TestClient re-raises the server's errors). SSE: an
``event: error`` frame, then the end of the stream.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis.exceptions
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from visiovox.jobs.model import EventType, JobEvent
from visiovox.jobs.reader import READ_BATCH, JobReader
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.redis_pool import PoolExhausted

FAILURES = [
    (redis.exceptions.ConnectionError("Connection reset by peer"), 1013, "redis_unavailable"),
    (PoolExhausted("all 64 Redis connections stayed busy for 5.0s"), 1013, "redis_busy"),
    (RuntimeError("a bug"), 1011, "internal_error"),
]


def break_reads_after_the_first(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Every stream read after the first raises ``error``."""
    real = JobReader.read_after
    calls = 0

    async def failing(
        self: JobReader, job_id: str, after: str, *, count: int = READ_BATCH
    ) -> list[JobEvent]:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise error
        return await real(self, job_id, after, count=count)

    monkeypatch.setattr(JobReader, "read_after", failing)


@pytest.mark.parametrize(("error", "close_code", "code"), FAILURES)
def test_websocket_closes_with_a_code_and_a_last_error_message(
    client: TestClient,
    domain: JobDomain,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    close_code: int,
    code: str,
) -> None:
    job_id = client.post("/v1/jobs/noop", json={}).json()["id"]
    break_reads_after_the_first(monkeypatch, error)
    with client.websocket_connect(f"/v1/jobs/{job_id}/ws") as socket:
        assert socket.receive_json()["type"] == "queued"
        domain.events.append(job_id, EventType.PROGRESS, {"percent": 50.0})
        last = socket.receive_json()
        assert last["error"]["code"] == code and last["error"]["message"]
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert (closed.value.code, closed.value.reason) == (close_code, code)


@pytest.mark.parametrize(("error", "close_code", "code"), FAILURES)
def test_sse_ends_with_an_error_frame(
    client: TestClient,
    domain: JobDomain,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    close_code: int,
    code: str,
) -> None:
    job_id = client.post("/v1/jobs/noop", json={}).json()["id"]
    break_reads_after_the_first(monkeypatch, error)
    frames: list[dict[str, Any]] = []
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as response:
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if line == "" and fields:
                frames.append(fields)
                fields = {}
                if len(frames) == 1:
                    domain.events.append(job_id, EventType.PROGRESS, {"percent": 50.0})
            elif line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
    assert [frame["event"] for frame in frames] == ["queued", "error"]
    error_frame = frames[-1]
    assert "id" not in error_frame, "Last-Event-ID must stay the last event received"
    assert error_frame["retry"] == "2000"
    assert json.loads(error_frame["data"])["error"]["code"] == code
