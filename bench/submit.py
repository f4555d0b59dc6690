"""Submissions per second of POST /v1/jobs/tts at 32 clients, next to a bare FastAPI endpoint.

Both servers run as one uvicorn process on this machine, measured in the same
run with the same load generator; no worker runs, so only the gateway is timed.
Then the rate limiter's cost: two deployments with auth on, one with limits
off and one with limits on and a key whose limits are above the load, loaded
in turn (off, on, off, on); and a key whose submissions limit the load
exceeds: the share of 429s and their latency next to the 202s'.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from tests.integration.stack import Stack, create_key, free_port, wait_until

from bench.loadgen import LoadResult, run_load

CLIENTS = 32
SECONDS = 8.0
BODY = b"text=Hello+there%2C+this+is+a+benchmark+sentence."
FORM = "application/x-www-form-urlencoded"


def load(port: int, key: str | None = None) -> LoadResult:
    """One second of warm-up, then the measured run (``key``: sent as a Bearer token)."""
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
                headers=f"Authorization: Bearer {key}\r\n" if key else "",
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
        # and no rate limits: this part times the gateway alone (limiter_cost times them).
        uncapped = {"VISIOVOX_SCHEDULER__MAX_QUEUED": "0", "VISIOVOX_LIMITS__ENABLED": "false"}
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


# A key far above the load: the limiter runs every check and refuses nothing.
ABOVE = ["--rate", "1000000/s", "--burst", "1000000", "--submits", "100000000/min"]
ABOVE += ["--max-queued", "0"]
# A key the load exceeds: 600 submissions a minute, a minute's worth at once.
EXCEEDED = ["--submits", "600/min", "--max-queued", "0"]


def limited_key(stack: Stack, owner: str, options: list[str]) -> str:
    output = subprocess.run(
        [sys.executable, "-m", "visiovox", "keys", "create", "--owner", owner, *options],
        env=stack.env,
        cwd=stack.root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return output.strip().splitlines()[-1]


def limiter_cost() -> None:
    """Limits off against limits on (a key above the load), interleaved; then a key exceeded."""
    base = {"VISIOVOX_SCHEDULER__MAX_QUEUED": "0", "VISIOVOX_AUTH__ENABLED": "on"}
    with tempfile.TemporaryDirectory() as tmp:
        off_root, on_root = Path(tmp, "off"), Path(tmp, "on")
        off_root.mkdir()
        on_root.mkdir()
        off = Stack(off_root, settings={**base, "VISIOVOX_LIMITS__ENABLED": "false"})
        on = Stack(on_root, settings=base)
        try:
            off.start(workers=0)
            on.start(workers=0)
            off_key = create_key("bench", env=off.env, cwd=off.root)
            on_key = limited_key(on, "bench", ABOVE)
            rounds: dict[str, list[LoadResult]] = {"off": [], "on": []}
            for _ in range(2):
                rounds["off"].append(load(off.port, off_key))
                rounds["on"].append(load(on.port, on_key))
            exceeded = load(on.port, limited_key(on, "greedy", EXCEEDED))
        finally:
            off.stop()
            on.stop()
    print(f"\nrate limiter, auth on, {CLIENTS} clients, load average {os.getloadavg()[0]:.2f}")
    for label, results in rounds.items():
        for result in results:
            report(f"limits {label}", result)
    rate = {label: statistics.median(r.per_second for r in rs) for label, rs in rounds.items()}
    print(f"ratio limits on/off throughput (medians): {rate['on'] / rate['off']:.3f}")
    report("key over 600/min", exceeded)
    refused = exceeded.statuses.get(429, 0)
    print(f"429 share {refused / exceeded.requests:.1%}")
    for status in sorted(exceeded.by_status):
        print(
            f"  {status}: p50 {exceeded.status_ms(status, 0.5):6.1f} ms   "
            f"p90 {exceeded.status_ms(status, 0.9):6.1f} ms"
        )


if __name__ == "__main__":
    main()
    limiter_cost()
