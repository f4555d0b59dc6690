"""A live voice session whose worker is ``kill -9``'d: worker_lost and 1011, never run again.

A private stack of two workers and a 2 s lease, as ``test_live_worker_lost.py``
does for the face swap: the session's job is hosted by one worker, which is
killed; the other worker's janitor fails the job ``worker_lost`` once the
lease lapses, and the gateway tells the client and closes 1011.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.integration.stack import Stack, wait_for_job, wait_until

LEASE_S = 2.0
# After the lease lapses: a janitor sweep (0.5 s) and the relay's next look at the job (1 s).
NOTICE_S = 2.5


def test_killed_worker_ends_the_voice_session_worker_lost(make_stack: Any) -> None:
    stack: Stack = make_stack(
        workers=2,
        settings={"VISIOVOX_AUTH__ENABLED": "off", "VISIOVOX_JOBS__LEASE_S": str(LEASE_S)},
    )
    with connect(stack.ws_url("/v1/live/voice"), max_size=None) as socket:
        socket.send(json.dumps({"type": "start_session", "sample_rate": 48000}))
        job_id = json.loads(socket.recv(timeout=10))["job_id"]

        def host() -> str | None:
            with stack.client() as client:
                workers = client.get("/v1/workers").json()["data"]
            return next((w["name"] for w in workers if w["current_job"] == job_id), None)

        hosting = wait_until(host, timeout_s=30, what="a worker hosting the session")
        stack.kill_worker(hosting)  # SIGKILL
        killed_at = time.monotonic()
        messages: list[Any] = []
        with pytest.raises(ConnectionClosed):  # not TimeoutError: no hang
            while True:
                left_s = killed_at + 2 * (LEASE_S + NOTICE_S) - time.monotonic()
                messages.append(socket.recv(timeout=max(left_s, 0.01)))
        closed_after_s = time.monotonic() - killed_at
    errors = [json.loads(m) for m in messages if isinstance(m, str)]
    assert [e["code"] for e in errors if e["type"] == "error"] == ["worker_lost"], messages
    assert socket.close_code == 1011
    assert closed_after_s <= LEASE_S + NOTICE_S, closed_after_s
    time.sleep(LEASE_S)  # time enough for a re-dispatch, were there one
    with stack.client() as client:
        job = wait_for_job(client, job_id, timeout_s=5)
    assert (job["status"], job["error"]["code"]) == ("failed", "worker_lost"), job
    assert (job["attempts"], job["worker"]) == (1, hosting), job
