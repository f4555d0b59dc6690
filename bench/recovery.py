"""Recovery of ``visiovox up`` after a ``kill -9`` of the embedded Redis or of the worker.

Each repetition starts a fresh ``visiovox up`` (default supervisor, heartbeat,
lease and janitor settings; an idle stack and one polling client), waits for
``/readyz``, then kills one child with SIGKILL and polls every 20 ms.

Redis: until the new redis-server answers, until ``/readyz`` answers 200, and
until a ``noop`` job submitted after the kill (retried until the gateway takes
it) has succeeded. Worker: until the new worker process exists, and until a
``noop`` job submitted right after the kill has succeeded.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import redis
from tests.integration.up import Up

REPETITIONS = 5
POLL_S = 0.02
TIMEOUT_S = 120.0
# Production defaults, not the short ones the tests use.
SETTINGS = {
    "VISIOVOX_JOBS__LEASE_S": "30",
    "VISIOVOX_WORKER__HEARTBEAT_S": "2",
    "VISIOVOX_JOBS__JANITOR_INTERVAL_S": "5",
    "VISIOVOX_SUPERVISOR__RESTART_DELAY_S": "0.5",
    "VISIOVOX_SUPERVISOR__RESTART_MAX_DELAY_S": "30",
}


def submit_noop(client: httpx.Client) -> str | None:
    try:
        response = client.post("/v1/jobs/noop", data={"sleep_s": "0"})
    except httpx.HTTPError:
        return None
    return str(response.json()["id"]) if response.status_code == 202 else None


def succeeded(client: httpx.Client, job_id: str) -> bool:
    try:
        response = client.get(f"/v1/jobs/{job_id}")
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.json()["status"] == "succeeded"


def redis_answers(up: Up) -> bool:
    try:
        return bool(redis.Redis.from_url(up.redis_url, socket_timeout=0.5).ping())
    except (redis.ConnectionError, redis.TimeoutError):
        return False


class Timer:
    """Seconds since the kill at which each named condition first held."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.marks: dict[str, float] = {}

    def check(self, name: str, condition: Callable[[], bool]) -> None:
        if name not in self.marks and condition():
            self.marks[name] = time.monotonic() - self.start


def redis_kill(up: Up) -> dict[str, float]:
    with up.client() as client:
        up.kill_child("redis")
        timer = Timer()
        job_id: str | None = None
        while len(timer.marks) < 3 and time.monotonic() - timer.start < TIMEOUT_S:
            timer.check("redis answers", lambda: redis_answers(up))
            timer.check("/readyz 200", up.ready)
            if job_id is None:
                job_id = submit_noop(client)
            else:
                timer.check("job succeeded", lambda job=job_id: succeeded(client, job))
            time.sleep(POLL_S)
    return timer.marks


def worker_kill(up: Up) -> dict[str, float]:
    with up.client() as client:
        killed = up.kill_child("worker")
        timer = Timer()
        job_id = submit_noop(client)
        assert job_id is not None
        while len(timer.marks) < 2 and time.monotonic() - timer.start < TIMEOUT_S:
            timer.check("worker process", lambda: up.child_pid("worker") not in (None, killed))
            timer.check("job succeeded", lambda: succeeded(client, job_id))
            time.sleep(POLL_S)
    return timer.marks


def measure(kill: Callable[[Up], dict[str, float]]) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {}
    for _ in range(REPETITIONS):
        with tempfile.TemporaryDirectory() as tmp:
            up = Up(Path(tmp), settings=SETTINGS).start()
            try:
                for name, seconds in kill(up).items():
                    figures.setdefault(name, []).append(seconds)
            finally:
                up.close()
    return figures


def report(title: str, figures: dict[str, list[float]]) -> None:
    print(f"{title} ({REPETITIONS} runs), seconds after the kill")
    print(f"{'until':<16} {'median':>7} {'min':>7} {'max':>7}  runs")
    for name, values in figures.items():
        runs = " ".join(f"{value:.2f}" for value in values)
        print(
            f"{name:<16} {statistics.median(values):>7.2f} {min(values):>7.2f}"
            f" {max(values):>7.2f}  {runs}"
        )


def main() -> None:
    report("kill -9 of the embedded Redis", measure(redis_kill))
    report("kill -9 of the worker", measure(worker_kill))


if __name__ == "__main__":
    main()
