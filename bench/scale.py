"""Scale-out: throughput against the number of workers, and the scheduler's decision time.

Throughput: ``noop`` jobs that sleep ``JOB_S`` (sleep-bound, so even 8 workers
on 2 cores are not CPU-bound), ``JOBS_PER_WORKER`` per worker, all submitted
at once to an idle fleet; jobs per second from the first start to the last
finish, against the ideal ``workers / JOB_S``.

Decision time: ``scheduler.place`` for a ``tts`` job over N registered
workers (a mix of states, a quarter with the engine loaded), timed per call;
and the registry read the gateway does before it (one script round trip to
the embedded Redis, decoding the N heartbeats).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx
from tests.integration.stack import Stack, wait_for_job

from bench.loadgen import percentile
from visiovox.config import load_settings
from visiovox.embedded_redis import EmbeddedRedis
from visiovox.jobs.redis_client import build_domain
from visiovox.jobs.scheduler import place
from visiovox.jobs.workers import WorkerInfo, WorkerRegistry, WorkerState
from visiovox.pipelines.tts.spec import SPEC as TTS

JOB_S = 0.5
JOBS_PER_WORKER = 8
FLEETS = (1, 2, 4, 8)
REGISTERED = (1, 8, 64, 256)
DECISIONS = 20_000


def unix(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def run_batch(client: httpx.Client, workers: int) -> tuple[float, int]:
    ids = [
        client.post("/v1/jobs/noop", data={"sleep_s": str(JOB_S), "steps": "5"}).json()["id"]
        for _ in range(JOBS_PER_WORKER * workers)
    ]
    jobs = [wait_for_job(client, job_id, timeout_s=120) for job_id in ids]
    span = max(unix(j["finished_at"]) for j in jobs) - min(unix(j["started_at"]) for j in jobs)
    return len(jobs) / span, len({j["worker"] for j in jobs})


def throughput() -> None:
    print(f"throughput: noop {JOB_S}s jobs, {JOBS_PER_WORKER} per worker")
    print(
        f"{'workers':>7} {'jobs/s':>8} {'ideal':>7} {'vs ideal':>9} {'vs linear':>10} {'used':>5}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp)).start(workers=0)
        base = 0.0
        try:
            with stack.client() as client:
                for workers in FLEETS:
                    missing = [f"w{i}" for i in range(len(stack.workers) + 1, workers + 1)]
                    stack.start_workers(missing)
                    rate, used = run_batch(client, workers)
                    base = base or rate
                    ideal = workers / JOB_S
                    print(
                        f"{workers:>7} {rate:>8.2f} {ideal:>7.2f} {rate / ideal:>9.3f} "
                        f"{rate / (workers * base):>10.3f} {used:>5}"
                    )
        finally:
            stack.stop()


def fake_fleet(size: int) -> list[WorkerInfo]:
    rng = random.Random(size)
    states = [WorkerState.READY, WorkerState.BUSY, WorkerState.BUSY, WorkerState.DRAINING]
    return [
        WorkerInfo(
            name=f"host{i}/cuda:{i % 8}" if i % 2 else f"host{i}/cpu",
            host=f"host{i}",
            pid=i,
            device=f"cuda:{i % 8}" if i % 2 else "cpu",
            state=rng.choice(states),
            queues=[],
            engines=[
                {"name": "tts.piper" if i % 4 == 0 else "stt.whisper", "loaded": True},
                {"name": "stt.whisper", "loaded": False},
            ],
            jobs_done=rng.randrange(1000),
        )
        for i in range(size)
    ]


def decision_time() -> None:
    print(f"scheduler: place(tts) over N registered workers, {DECISIONS} calls each")
    print(f"{'N':>5} {'p50 us':>8} {'p99 us':>8} | registry read: {'p50 us':>7} {'p99 us':>7}")
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp), persist=False) as server:
        for size in REGISTERED:
            workers = fake_fleet(size)
            timings = []
            for _ in range(DECISIONS):
                started = time.perf_counter_ns()
                place(TTS.needs, workers)
                timings.append((time.perf_counter_ns() - started) / 1000)
            settings = load_settings(
                redis={"url": server.url, "prefix": f"b{uuid.uuid4().hex[:6]}"}
            )
            domain = build_domain(settings)
            registry = WorkerRegistry(domain.redis, keys=domain.keys, ttl_s=60)
            for info in workers:
                registry.publish(info)
            reads = []
            for _ in range(500):
                started = time.perf_counter_ns()
                registry.live()
                reads.append((time.perf_counter_ns() - started) / 1000)
            print(
                f"{size:>5} {statistics.median(timings):>8.1f} {percentile(timings, 0.99):>8.1f}"
                f" | {'':>14} {statistics.median(reads):>7.0f} {percentile(reads, 0.99):>7.0f}"
            )


def main() -> None:
    decision_time()
    throughput()


if __name__ == "__main__":
    main()
