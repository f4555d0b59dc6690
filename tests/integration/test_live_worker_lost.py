"""A live session whose worker is ``kill -9``'d: worker_lost and 1011, never run again.

A private stack of two workers and a 2 s lease. A face swap session (the
quickest live session to drive: a source, then frames) is hosted by one
worker; that worker is killed. Its lease lapses within ``jobs.lease_s``, the
other worker's janitor (every 0.5 s) fails the job ``worker_lost`` instead of
re-dispatching it, and the gateway, which polls the job each second while the
output stream is quiet, sends the error and closes 1011. The other worker
never starts the job: it stays at its one attempt, on the killed worker.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import cv2
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.integration.stack import Stack, wait_for_job

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LEASE_S = 2.0
# After the lease lapses: a janitor sweep (0.5 s) and the relay's next look at the job (1 s).
NOTICE_S = 2.5


def _next(socket: Any) -> Any:
    """The next message but ``stats`` (JSON as a dict, binary as bytes)."""
    while True:
        message = socket.recv(timeout=30)
        if isinstance(message, bytes):
            return message
        payload = json.loads(message)
        if payload["type"] != "stats":
            return payload


def test_killed_worker_ends_the_session_worker_lost_and_it_is_not_redispatched(
    make_stack: Any,
) -> None:
    stack: Stack = make_stack(
        workers=2,
        settings={"VISIOVOX_AUTH__ENABLED": "off", "VISIOVOX_JOBS__LEASE_S": str(LEASE_S)},
    )
    source = (FIXTURES / "grace_hopper.jpg").read_bytes()
    ok, frame = cv2.imencode(".jpg", cv2.imread(str(FIXTURES / "astronaut.png")))
    assert ok
    with connect(stack.ws_url("/v1/live/face-swap"), max_size=None) as socket:
        socket.send(json.dumps({"type": "start_session"}))
        started = json.loads(socket.recv(timeout=10))
        job_id = started["job_id"]
        socket.send(source)
        assert _next(socket) == {"type": "ready"}, stack.logs()
        socket.send(frame.tobytes())
        assert _next(socket)["type"] == "frame"
        assert isinstance(_next(socket), bytes)
        with stack.client() as client:
            workers = client.get("/v1/workers").json()["data"]
        (hosting,) = [info for info in workers if info["current_job"] == job_id]
        host = hosting["name"]
        assert hosting["pid"] == stack.workers[host].pid
        (other,) = set(stack.workers) - {host}
        stack.kill_worker(host)  # SIGKILL
        killed_at = time.monotonic()
        messages: list[Any] = []
        with pytest.raises(ConnectionClosed):  # not TimeoutError: no hang
            while True:
                left_s = killed_at + 2 * (LEASE_S + NOTICE_S) - time.monotonic()
                messages.append(socket.recv(timeout=max(left_s, 0.01)))
        closed_after_s = time.monotonic() - killed_at
    replies = [json.loads(m) for m in messages if isinstance(m, str)]
    errors = [m for m in replies if m["type"] == "error"]
    assert [e["code"] for e in errors] == ["worker_lost"], messages
    assert errors[0]["message"]
    assert socket.close_code == 1011
    assert closed_after_s <= LEASE_S + NOTICE_S, closed_after_s
    time.sleep(LEASE_S)  # time enough for a re-dispatch, were there one
    with stack.client() as client:
        job = wait_for_job(client, job_id, timeout_s=5)
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "worker_lost", job
    assert (job["attempts"], job["worker"]) == (1, host), job
    survivor = stack.worker_info(other)
    assert survivor is not None and survivor["current_job"] != job_id, survivor
