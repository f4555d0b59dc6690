"""Chaos: 50 queued jobs and a long one, the long job's worker ``kill -9``'d twice, Redis restarted.

The scenario is ``tests/integration/chaos.py``: two workers, a persistent
Redis, the stack's 3 s lease; Redis restarts 1 s into the long job, then the
worker running the long job is killed 1 s into its first and second attempts
and replaced at once. The assertions are the issue's:

- 0 lost: every job's record is there (also right after the Redis restart);
- 0 completed twice: one ``succeeded`` event per job, and no attempt that ran
  to its end had its outcome dropped (noop's only side effects are its events);
- 0 stuck: none left ``queued`` or ``running``; all ``succeeded``: the long
  job's three attempts (two killed) are within ``jobs.max_attempts`` = 3, and
  the Redis restart costs no attempt;
- recovery: a job starts within 2 x ``jobs.lease_s`` of Redis answering again
  (the workers reconnect), a killed attempt is running again within
  2 x ``jobs.lease_s`` of its kill (its lease lapses, the janitor re-dispatches
  it at high priority),
  and every job is terminal within 2 x ``jobs.lease_s`` + ``LONG_S`` of the
  last fault: the long job runs again from the start, and the short jobs left
  then (none in practice) need less than the lease;
- the gateway answers every poll: 200, or 503 for requests that overlapped
  Redis's downtime (and some did).
"""

from __future__ import annotations

from tests.integration.chaos import run_chaos

SHORTS = 50
SHORT_S = 0.1
LONG_S = 5.0
MAX_ATTEMPTS = 3


def test_kills_and_a_redis_restart_lose_nothing_and_run_nothing_twice(make_stack) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack(
        workers=2,
        persist_redis=True,
        settings={"VISIOVOX_JOBS__MAX_ATTEMPTS": str(MAX_ATTEMPTS)},
    )
    report = run_chaos(stack, shorts=SHORTS, short_s=SHORT_S, long_s=LONG_S, deadline_s=60)
    context = f"{report}\n{report.logs}"

    assert len(report.jobs) == SHORTS + 1
    assert report.missing_after_restart == [], context
    assert report.lost == [], context
    assert report.stuck == [], context
    assert report.completed_twice == [], context
    assert report.dropped_outcomes == 0, context
    assert report.statuses == {"succeeded": SHORTS + 1}, context
    for job in report.jobs:
        expected = (MAX_ATTEMPTS, MAX_ATTEMPTS) if job.job_id == report.long_id else (1, 1)
        assert (job.attempts, job.started, job.succeeded) == (*expected, 1), context

    lease_s = report.lease_s
    for fault in report.faults:
        assert fault.recovered_s <= 2 * lease_s, context
    after = report.after_last_fault_s
    assert after is not None and after <= 2 * lease_s + LONG_S, context

    assert report.gateway_codes["503"] >= 1, context
    assert report.unexpected_polls == [], context
