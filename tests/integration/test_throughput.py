"""Throughput grows with workers, and a high-priority job overtakes queued normal ones."""

from __future__ import annotations

from datetime import datetime

import httpx

from tests.integration.stack import Stack, wait_for_job

JOB_S = 0.5
JOBS_PER_WORKER = 4


def unix(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def throughput(client: httpx.Client, workers: int) -> float:
    """Jobs per second of sleep-bound jobs, ``JOBS_PER_WORKER`` each: first start to last end."""
    ids = [
        client.post("/v1/jobs/noop", data={"sleep_s": str(JOB_S), "steps": "5"}).json()["id"]
        for _ in range(JOBS_PER_WORKER * workers)
    ]
    jobs = [wait_for_job(client, job_id, timeout_s=60) for job_id in ids]
    assert {job["status"] for job in jobs} == {"succeeded"}
    assert len({job["worker"] for job in jobs}) == workers
    span = max(unix(j["finished_at"]) for j in jobs) - min(unix(j["started_at"]) for j in jobs)
    return len(jobs) / span


def test_throughput_scales_linearly_with_sleep_bound_jobs(make_stack) -> None:  # type: ignore[no-untyped-def]
    stack: Stack = make_stack(workers=1)
    rates: dict[int, float] = {}
    with stack.client() as client:
        rates[1] = throughput(client, 1)
        stack.start_workers(["w2"])
        rates[2] = throughput(client, 2)
        stack.start_workers(["w3", "w4"])
        rates[4] = throughput(client, 4)
    assert rates[1] > 0.9 / JOB_S, rates
    for workers in (2, 4):
        assert rates[workers] >= 0.9 * workers * rates[1], rates


def test_high_priority_job_queued_last_runs_first(make_stack) -> None:  # type: ignore[no-untyped-def]
    stack: Stack = make_stack(workers=1)
    with stack.client() as client:
        blocker = client.post("/v1/jobs/noop", data={"sleep_s": "1", "steps": "10"}).json()
        wait_for_job(client, blocker["id"], until={"running"}, timeout_s=30)
        order = [("low", "low")] + [("normal", f"normal{i}") for i in range(3)] + [("high", "high")]
        ids = {
            label: client.post("/v1/jobs/noop", data={"priority": priority}).json()["id"]
            for priority, label in order
        }
        for job_id in ids.values():
            assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"
        done = {label: wait_for_job(client, job_id) for label, job_id in ids.items()}
    started = sorted(done, key=lambda label: unix(done[label]["started_at"]))
    assert started == ["high", "normal0", "normal1", "normal2", "low"], started
