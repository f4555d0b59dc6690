"""The chaos scenario: queued jobs and a long one through two ``kill -9``s and a Redis restart.

Shared by ``tests/integration/test_chaos.py`` (asserts) and ``bench/chaos.py``
(prints the figures). On a stack with a persistent Redis and two or more
workers: submit one long ``noop`` job (high priority, so a re-dispatch puts it
ahead of the queue) and, once it runs, ``shorts`` short ones; then

1. restart Redis (SIGTERM: it saves; start again on the same folder) while the
   long job runs and most short ones are queued;
2. ``kill -9`` the worker running the long job and start a replacement under
   the same name, as a supervisor would;
3. once the long job runs again and the replacement is up, ``kill -9`` its
   worker again, and replace it.

The long job so runs three attempts, the last one to completion. Meanwhile a
thread polls the gateway to check that it always answers, with ``503`` only
while Redis is down. The outcome is read from the job records and their event
streams in Redis (the source of truth), not from what the gateway sums up.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis

from tests.integration.stack import TERMINAL, Stack, wait_until
from visiovox.jobs.events import decode_event
from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.model import JobEvent
from visiovox.jobs.records import decode_job

# How long Redis stays down: short enough that running jobs' leases survive it.
REDIS_DOWN_S = 0.5
# How far into an attempt of the long job each kill lands.
KILL_AFTER_S = 1.0
# What a worker logs when an attempt ran to completion but could not record it: with
# the ``succeeded`` events, every run of a job to its end is accounted for.
DROPPED_OUTCOME = "its outcome was dropped"


@dataclass(frozen=True)
class Poll:
    """One gateway request of the poller: when it was sent and answered, and how."""

    sent: float
    answered: float
    status: int | None
    error: str | None = None


@dataclass(frozen=True)
class Fault:
    """One injected fault and how long the service took to get going again."""

    kind: str
    at: float
    # kill: until the long job started again; Redis: until a job made progress again.
    recovered_s: float


@dataclass(frozen=True)
class JobOutcome:
    """What the record and the event stream of one job say at the end."""

    job_id: str
    status: str | None
    attempts: int
    started: int
    succeeded: int
    finished_at: float | None


@dataclass
class ChaosReport:
    """Everything the test asserts and the benchmark prints."""

    lease_s: float
    long_s: float
    long_id: str
    jobs: list[JobOutcome]
    faults: list[Fault]
    redis_down: tuple[float, float]
    polls: list[Poll]
    dropped_outcomes: int
    submitted_at: float
    # Records gone right after the Redis restart (a restart must keep everything).
    missing_after_restart: list[str]
    shorts_left_at_last_fault: int
    all_terminal_at: float | None
    logs: str = field(repr=False, default="")

    @property
    def lost(self) -> list[str]:
        """Jobs whose record is gone."""
        return [job.job_id for job in self.jobs if job.status is None]

    @property
    def stuck(self) -> list[str]:
        """Jobs left queued or running."""
        return [j.job_id for j in self.jobs if j.status is not None and j.status not in TERMINAL]

    @property
    def completed_twice(self) -> list[str]:
        """Jobs with more than one ``succeeded`` event."""
        return [job.job_id for job in self.jobs if job.succeeded > 1]

    @property
    def statuses(self) -> Counter[str | None]:
        return Counter(job.status for job in self.jobs)

    @property
    def last_fault_at(self) -> float:
        return self.faults[-1].at

    @property
    def after_last_fault_s(self) -> float | None:
        """From the last fault until every job was terminal."""
        if self.all_terminal_at is None:
            return None
        return self.all_terminal_at - self.last_fault_at

    @property
    def total_s(self) -> float | None:
        """From the first submission until every job was terminal."""
        if self.all_terminal_at is None:
            return None
        return self.all_terminal_at - self.submitted_at

    @property
    def gateway_codes(self) -> Counter[str]:
        return Counter(str(p.status) if p.error is None else p.error for p in self.polls)

    @property
    def gateway_recovered_s(self) -> float | None:
        """From Redis answering again until the gateway's first 200 sent after that."""
        up = self.redis_down[1]
        answered = [p.answered for p in self.polls if p.status == 200 and p.sent >= up]
        return min(answered) - up if answered else None

    @property
    def unexpected_polls(self) -> list[Poll]:
        """Polls that were not 200, except 503s of requests that overlapped Redis's downtime."""
        down, up = self.redis_down
        return [
            p
            for p in self.polls
            if p.status != 200 and not (p.status == 503 and p.sent <= up and p.answered >= down)
        ]


class GatewayPoller(threading.Thread):
    """GETs one job every ``interval_s`` and records every answer (or failure to answer)."""

    def __init__(self, stack: Stack, job_id: str, *, interval_s: float = 0.05) -> None:
        super().__init__(name="chaos-poller", daemon=True)
        self._url = f"{stack.base_url}/v1/jobs/{job_id}"
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self.polls: list[Poll] = []

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stopping.is_set():
                sent = time.time()
                try:
                    status: int | None = client.get(self._url).status_code
                    error = None
                except httpx.HTTPError as exc:
                    status, error = None, type(exc).__name__
                self.polls.append(Poll(sent=sent, answered=time.time(), status=status, error=error))
                self._stopping.wait(self._interval_s)

    def stop(self) -> list[Poll]:
        self._stopping.set()
        self.join(timeout=15)
        return self.polls


class JobReader:
    """Reads job records and event streams straight from Redis."""

    def __init__(self, stack: Stack) -> None:
        self._redis = redis.Redis.from_url(stack.redis.url, socket_timeout=5)
        self._keys = RedisKeys(stack.env.get("VISIOVOX_REDIS__PREFIX", "vv"))

    def statuses(self, job_ids: list[str]) -> list[str | None]:
        pipe = self._redis.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hget(self._keys.job(job_id), "status")
        return [raw.decode().strip('"') if raw else None for raw in pipe.execute()]

    def outcome(self, job_id: str) -> JobOutcome:
        raw = self._redis.hgetall(self._keys.job(job_id))
        types = Counter(event.type.value for event in self.events(job_id))
        if not raw:
            return JobOutcome(
                job_id=job_id,
                status=None,
                attempts=0,
                started=types["started"],
                succeeded=types["succeeded"],
                finished_at=None,
            )
        job = decode_job(raw)
        return JobOutcome(
            job_id=job_id,
            status=job.status.value,
            attempts=job.attempts,
            started=types["started"],
            succeeded=types["succeeded"],
            finished_at=job.finished_at,
        )

    def events(self, job_id: str) -> list[JobEvent]:
        entries: Any = self._redis.xrange(self._keys.events(job_id))
        return [decode_event(entry_id, fields) for entry_id, fields in entries]

    def event_times(self, job_id: str, event_type: str) -> list[float]:
        return [event.ts for event in self.events(job_id) if event.type.value == event_type]

    def first_start_after(self, job_ids: list[str], after: float) -> float | None:
        """When the first of ``job_ids`` started after ``after`` (unix time), if one did."""
        pipe = self._redis.pipeline(transaction=False)
        for job_id in job_ids:  # stream ids start with the entry's unix time in ms
            pipe.xrange(self._keys.events(job_id), min=str(int(after * 1000)))
        starts = [
            event.ts
            for entries in pipe.execute()
            for event in (decode_event(entry_id, fields) for entry_id, fields in entries)
            if event.type.value == "started" and event.ts > after
        ]
        return min(starts, default=None)

    def close(self) -> None:
        self._redis.close()


def submit(client: httpx.Client, *, sleep_s: float, steps: int, priority: str) -> str:
    response = client.post(
        "/v1/jobs/noop",
        data={"sleep_s": str(sleep_s), "steps": str(steps), "priority": priority},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def running_attempt(client: httpx.Client, job_id: str, attempt: int) -> dict[str, Any] | None:
    """The job while it runs attempt ``attempt``."""
    job = client.get(f"/v1/jobs/{job_id}").json()
    return dict(job) if (job["status"], job["attempts"]) == ("running", attempt) else None


def replace_worker(stack: Stack, name: str) -> None:
    """``kill -9`` worker ``name`` and start a new one under the same name, at once."""
    stack.kill_worker(name)
    stack.start_worker(name, wait=False)


# How long a step may take before the scenario gives up on it: generous, as a loaded
# 2-core machine stretches every step; the recovery bounds are asserted separately.
WAIT_S = 90.0


def wait_for_replacement(stack: Stack, name: str, *, timeout_s: float) -> None:
    """Until the replacement of ``name`` is registered (not the dead one's stale heartbeat)."""
    pid = stack.workers[name].pid
    wait_until(
        lambda: (info := stack.worker_info(name)) and info["pid"] == pid,
        timeout_s=timeout_s,
        what=f"replacement worker {name}",
    )


def run_chaos(
    stack: Stack,
    *,
    shorts: int,
    short_s: float,
    long_s: float,
    deadline_s: float = 120.0,
) -> ChaosReport:
    """Run the scenario on a started stack (persistent Redis, two or more workers)."""
    lease_s = float(stack.env["VISIOVOX_JOBS__LEASE_S"])
    reader = JobReader(stack)
    faults: list[Fault] = []
    with stack.client() as client:
        submitted_at = time.time()
        long_id = submit(client, sleep_s=long_s, steps=int(long_s * 10), priority="high")
        wait_until(lambda: running_attempt(client, long_id, 1), timeout_s=WAIT_S, what="long job")
        short_ids = [
            submit(client, sleep_s=short_s, steps=2, priority="normal") for _ in range(shorts)
        ]
        job_ids = [long_id, *short_ids]
        poller = GatewayPoller(stack, long_id)
        poller.start()
        time.sleep(KILL_AFTER_S)

        # 1. Redis restarts while the long job runs and most short ones are queued.
        down = time.time()
        stack.redis.stop()
        time.sleep(REDIS_DOWN_S)
        stack.redis.start()
        up = time.time()
        after_restart = zip(job_ids, reader.statuses(job_ids), strict=True)
        missing_after_restart = [job_id for job_id, status in after_restart if status is None]
        resumed = wait_until(
            lambda: reader.first_start_after(short_ids, up),
            timeout_s=WAIT_S,
            what="a job to start after the Redis restart",
        )
        faults.append(Fault(kind="redis restart", at=down, recovered_s=resumed - up))

        # 2. and 3. The long job's worker is killed twice, each time 1 s into an attempt.
        for attempt in (1, 2):
            job = wait_until(
                lambda a=attempt: running_attempt(client, long_id, a),
                timeout_s=WAIT_S,
                what=f"long job attempt {attempt}",
            )
            started = reader.event_times(long_id, "started")[-1]
            time.sleep(max(0.0, started + KILL_AFTER_S - time.time()))
            killed_at = time.time()
            replace_worker(stack, job["worker"])
            wait_until(
                lambda a=attempt: running_attempt(client, long_id, a + 1),
                timeout_s=WAIT_S,
                what=f"long job attempt {attempt + 1}",
            )
            recovered = reader.event_times(long_id, "started")[-1] - killed_at
            kind = f"kill -9 {job['worker']}"
            faults.append(Fault(kind=kind, at=killed_at, recovered_s=recovered))
            if attempt == 1:
                # The next kill leaves a live worker only if this replacement is up.
                wait_for_replacement(stack, job["worker"], timeout_s=60)

        shorts_left_at_last_fault = sum(
            status not in TERMINAL for status in reader.statuses(short_ids)
        )
        with contextlib.suppress(TimeoutError):  # the report says which are not
            wait_until(
                lambda: all(s in TERMINAL for s in reader.statuses(job_ids)),
                timeout_s=deadline_s,
                what="every job terminal",
            )
        polls = poller.stop()
    jobs = [reader.outcome(job_id) for job_id in job_ids]
    reader.close()
    finished = [job.finished_at for job in jobs]
    all_done = None if None in finished else max(t for t in finished if t is not None)
    logs = "\n".join(p.read_text(errors="replace") for p in stack.root.glob("worker-*.log"))
    return ChaosReport(
        lease_s=lease_s,
        long_s=long_s,
        long_id=long_id,
        jobs=jobs,
        faults=faults,
        redis_down=(down, up),
        polls=polls,
        dropped_outcomes=logs.count(DROPPED_OUTCOME),
        submitted_at=submitted_at,
        missing_after_restart=missing_after_restart,
        shorts_left_at_last_fault=shorts_left_at_last_fault,
        all_terminal_at=all_done,
        logs=stack.logs(),
    )
