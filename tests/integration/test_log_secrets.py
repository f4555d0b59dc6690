"""No API key reaches a log: an authenticated run at DEBUG, HTTP, SSE and WebSocket, grepped."""

from __future__ import annotations

from pathlib import Path

import httpx
from websockets.sync.client import connect

from tests.integration.stack import Stack, wait_for_job
from tests.integration.test_events_stream import read_sse


def test_no_key_in_any_log_line(tmp_path: Path) -> None:
    stack = Stack(
        tmp_path, settings={"VISIOVOX_AUTH__ENABLED": "on", "VISIOVOX_LOG_LEVEL": "DEBUG"}
    )
    try:
        stack.start(owners=("alice",))
        _use_the_key_everywhere(stack, stack.api_keys["alice"])
    finally:
        stack.stop()  # every process flushed and gone before the logs are read
    key = stack.api_keys["alice"]
    logs = {path.name: path.read_text(errors="replace") for path in stack.root.glob("*.log")}
    assert set(logs) == {"gateway.log", "worker-w1.log"}
    leaks = [name for name, text in logs.items() if key in text or key.removeprefix("vvk_") in text]
    assert leaks == [], f"the API key is in {leaks}"
    # The lines that carried it are still there, redacted.
    assert "/ws?api_key=***" in logs["gateway.log"]


def _use_the_key_everywhere(stack: Stack, key: str) -> None:
    """Bearer and X-API-Key requests, a wrong key, an SSE stream and a WebSocket ?api_key=."""
    with stack.client("alice") as bearer:
        job_id = bearer.post("/v1/jobs/noop", data={"sleep_s": "0.2"}).json()["id"]
        wait_for_job(bearer, job_id)
        assert len(read_sse(bearer, job_id)) >= 3
    header = {"X-API-Key": key}
    assert httpx.get(f"{stack.base_url}/v1/jobs/{job_id}", headers=header).status_code == 200
    wrong = {"Authorization": f"Bearer {key}x"}
    assert httpx.get(f"{stack.base_url}/v1/jobs", headers=wrong).status_code == 401
    ws_url = stack.ws_url(f"/v1/jobs/{job_id}/ws", key=key)
    with connect(ws_url, open_timeout=10) as socket:
        assert [message for message in socket]
