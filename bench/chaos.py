"""Chaos figures: queued jobs and a long one through two ``kill -9``s and a Redis restart.

The scenario of ``tests/integration/test_chaos.py`` (``tests/integration/chaos.py``),
larger: ``--shorts`` queued ``noop`` jobs of ``--short-s`` each and one long
job, two workers, a persistent embedded Redis, a 3 s lease. Prints the counts
(lost, completed twice, stuck, not succeeded), the recovery after each fault
and the totals, next to a baseline: the same jobs on a fresh stack with no
fault, so the difference is what the faults cost.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tests.integration.chaos import ChaosReport, JobReader, run_chaos, submit
from tests.integration.stack import TERMINAL, Stack, wait_until

T = TypeVar("T")

SHORTS = 200
SHORT_S = 0.1
LONG_S = 5.0


def describe(report: ChaosReport, *, shorts: int, short_s: float) -> None:
    print(
        f"jobs: {len(report.jobs)} ({shorts} x noop {short_s:g}s, 1 x noop {report.long_s:g}s "
        f"high priority); lease {report.lease_s:g}s; load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"lost {len(report.lost)}  completed twice {len(report.completed_twice)}  "
        f"stuck {len(report.stuck)}  statuses {dict(report.statuses)}  "
        f"outcomes dropped {report.dropped_outcomes}  "
        f"records missing after the Redis restart {len(report.missing_after_restart)}"
    )
    long_job = next(job for job in report.jobs if job.job_id == report.long_id)
    print(f"long job: {long_job.attempts} attempts, {long_job.succeeded} succeeded event")
    down, up = report.redis_down
    for fault in report.faults:
        what = "a job started again" if fault.kind == "redis restart" else "its job started again"
        print(f"{fault.kind:<16} {what:<22} {fault.recovered_s:6.2f} s after")
    print(f"Redis down (stop to PING)  {up - down:6.2f} s")
    if report.gateway_recovered_s is not None:
        print(f"gateway 200 again          {report.gateway_recovered_s:6.2f} s after PING")
    after, total = report.after_last_fault_s, report.total_s
    if after is not None and total is not None:
        left = report.shorts_left_at_last_fault
        print(
            f"all terminal {after:.2f} s after the last fault (left then: the long job, "
            f"{report.long_s:g} s from the start, and {left} short jobs, {left * short_s:.1f} s "
            f"of sleep; 2 x lease = {2 * report.lease_s:g} s); total {total:.2f} s"
        )
    codes = ", ".join(f"{code}: {n}" for code, n in sorted(report.gateway_codes.items()))
    print(f"gateway polls {len(report.polls)} ({codes}); outside Redis's downtime: ", end="")
    print(f"{len(report.unexpected_polls)} not 200")


def baseline_s(stack: Stack, *, shorts: int, short_s: float, long_s: float) -> float:
    """The same jobs with no fault: from the first submission until all are terminal."""
    reader = JobReader(stack)
    with stack.client() as client:
        submitted_at = time.time()
        job_ids = [submit(client, sleep_s=long_s, steps=int(long_s * 10), priority="high")]
        job_ids += [
            submit(client, sleep_s=short_s, steps=2, priority="normal") for _ in range(shorts)
        ]
        wait_until(
            lambda: all(s in TERMINAL for s in reader.statuses(job_ids)),
            timeout_s=300,
            what="every job terminal",
        )
    finished = [reader.outcome(job_id).finished_at or 0.0 for job_id in job_ids]
    reader.close()
    return max(finished) - submitted_at


def on_fresh_stack(run: Callable[[Stack], T]) -> T:
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp), persist_redis=True)
        try:
            return run(stack.start(workers=2))
        finally:
            stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shorts", type=int, default=SHORTS)
    parser.add_argument("--short-s", type=float, default=SHORT_S)
    parser.add_argument("--long-s", type=float, default=LONG_S)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    jobs = {"shorts": args.shorts, "short_s": args.short_s, "long_s": args.long_s}
    for run in range(args.runs):
        report = on_fresh_stack(lambda stack: run_chaos(stack, **jobs))
        calm_s = on_fresh_stack(lambda stack: baseline_s(stack, **jobs))
        print(f"--- run {run + 1}")
        describe(report, shorts=args.shorts, short_s=args.short_s)
        if report.total_s is not None:
            print(
                f"baseline, same jobs and no fault: {calm_s:.2f} s; "
                f"the faults cost {report.total_s - calm_s:.2f} s"
            )


if __name__ == "__main__":
    main()
