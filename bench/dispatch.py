"""Dispatch latency (submit → ``started`` event) and event latency (append → WebSocket receive).

One idle worker runs ``noop`` jobs. Dispatch: the client's clock before the
POST against the ``ts`` of the ``started`` event (same machine, same clock).
Event latency: each event's ``ts`` (taken as the worker appends it) against the
moment the WebSocket client receives it.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
from tests.integration.stack import Stack
from websockets.sync.client import connect

from bench.loadgen import percentile

DISPATCH_JOBS = 300


def event_time(event: dict[str, str]) -> float:
    """An event's ``ts`` (ISO 8601, UTC) as a unix time."""
    return datetime.fromisoformat(event["ts"].replace("Z", "+00:00")).timestamp()


EVENT_JOBS = 20


def dispatch_latencies(stack: Stack) -> list[float]:
    latencies: list[float] = []
    ws_base = stack.base_url.replace("http", "ws", 1)
    with httpx.Client(base_url=stack.base_url) as client:
        for _ in range(DISPATCH_JOBS):
            submitted = time.time()
            job_id = client.post("/v1/jobs/noop", data={"sleep_s": "0"}).json()["id"]
            with connect(f"{ws_base}/v1/jobs/{job_id}/ws") as socket:
                for message in socket:
                    event = json.loads(message)
                    if event["type"] == "started":
                        latencies.append(event_time(event) - submitted)
    return latencies


def event_latencies(stack: Stack) -> list[float]:
    latencies: list[float] = []
    ws_base = stack.base_url.replace("http", "ws", 1)
    with httpx.Client(base_url=stack.base_url) as client:
        for _ in range(EVENT_JOBS):
            job_id = client.post("/v1/jobs/noop", data={"sleep_s": "1", "steps": "20"}).json()["id"]
            with connect(f"{ws_base}/v1/jobs/{job_id}/ws") as socket:
                opened = time.time()
                for message in socket:
                    received = time.time()
                    event = json.loads(message)
                    if event_time(event) > opened:  # the snapshot replays older events
                        latencies.append(received - event_time(event))
    return latencies


def describe(label: str, values: list[float]) -> None:
    print(
        f"{label:<34} n={len(values):4d}  p50 {percentile(values, 0.5) * 1000:6.2f} ms  "
        f"p99 {percentile(values, 0.99) * 1000:6.2f} ms"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp)).start(workers=1)
        try:
            dispatch = dispatch_latencies(stack)
            events = event_latencies(stack)
        finally:
            stack.stop()
    describe("dispatch: submit -> started", dispatch)
    describe("event: worker append -> WS receive", events)


if __name__ == "__main__":
    main()
