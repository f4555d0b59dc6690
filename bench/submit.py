"""Submissions per second of POST /v1/jobs/tts at 32 clients, next to a bare FastAPI endpoint.

Both servers run as one uvicorn process on this machine, measured in the same
run with the same load generator; no worker runs, so only the gateway is timed.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from tests.integration.stack import Stack, free_port, wait_until

from bench.loadgen import LoadResult, run_load

CLIENTS = 32
SECONDS = 8.0
BODY = b"text=Hello+there%2C+this+is+a+benchmark+sentence."
FORM = "application/x-www-form-urlencoded"


def load(port: int) -> LoadResult:
    """One second of warm-up, then the measured run."""
    results = [
        asyncio.run(
            run_load(
                host="127.0.0.1",
                port=port,
                path="/v1/jobs/tts",
                body=BODY,
                content_type=FORM,
                clients=CLIENTS,
                seconds=seconds,
            )
        )
        for seconds in (1.0, SECONDS)
    ]
    return results[-1]


def start_bare(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=Path(__file__).parent.parent,
    )
    wait_until(lambda: _up(port), timeout_s=30, what="bare app")
    return process


def _up(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
        return True
    except httpx.HTTPError:
        return False


def report(label: str, result: LoadResult) -> None:
    print(
        f"{label:<22} {result.per_second:8.0f} req/s   p50 {result.p50_ms:6.1f} ms   "
        f"p99 {result.p99_ms:6.1f} ms   statuses {result.statuses}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # No queue-depth cap: tens of thousands of jobs pile up with no worker running.
        uncapped = {"VISIOVOX_SCHEDULER__MAX_QUEUED": "0"}
        stack = Stack(Path(tmp), settings=uncapped).start(workers=0)
        bare_port = free_port()
        bare = start_bare(bare_port)
        try:
            time.sleep(0.5)
            bare_result = load(bare_port)
            gateway_result = load(stack.port)
        finally:
            bare.terminate()
            bare.wait()
            stack.stop()
    print(f"POST /v1/jobs/tts, {CLIENTS} concurrent keep-alive clients, {SECONDS:.0f} s each")
    report("bare FastAPI endpoint", bare_result)
    report("VisioVox gateway", gateway_result)
    print(
        f"ratio gateway/bare throughput: {gateway_result.per_second / bare_result.per_second:.2f}"
    )


if __name__ == "__main__":
    main()
