"""Owners' quotas on a real Redis: counted at creation, moved and released by every transition."""

from __future__ import annotations

import time

import pytest

from tests.unit.jobs.helpers import create_job
from visiovox.jobs.model import Job, JobStatus, QuotaClass
from visiovox.jobs.quotas import Admission, QuotaExceeded, Quotas
from visiovox.jobs.ratelimit import Bucket, RateLimited
from visiovox.jobs.records import ClaimOutcome
from visiovox.jobs.redis_client import JobDomain

JOBS = Admission(quota=QuotaClass.JOBS, max_queued=2)


def make(
    domain: JobDomain,
    job_id: str,
    *,
    owner: str = "a",
    admission: Admission | None = JOBS,
    max_running: int = 0,
    **options: object,
) -> Job:
    quota = admission.quota if admission else None
    job = Job(id=job_id, pipeline="noop", owner=owner, quota=quota, max_running=max_running)
    created, _ = create_job(domain, job, admission=admission, **options)
    return created


def counts(domain: JobDomain, owner: str = "a") -> dict[str, int]:
    return Quotas(domain.redis, keys=domain.keys).counts(owner)


def test_max_queued_refuses_the_owner_only_and_frees_on_cancel(domain: JobDomain) -> None:
    make(domain, "q1")
    make(domain, "q2")
    with pytest.raises(QuotaExceeded) as refused:
        make(domain, "q3")
    assert (refused.value.which, refused.value.count, refused.value.cap) == ("queued", 2, 2)
    assert domain.store.get("q3") is None
    make(domain, "b1", owner="b")  # another owner is not blocked
    assert domain.store.request_cancel("q1") == "canceled"
    assert counts(domain)["queued"] == 1
    make(domain, "q3")


def test_claim_moves_to_running_and_finish_or_failure_releases(domain: JobDomain) -> None:
    make(domain, "r1")
    make(domain, "r2")
    assert domain.store.claim("r1", "w").outcome is ClaimOutcome.CLAIMED
    assert counts(domain) == {"queued": 1, "running": 1, "held": 0, "live": 0}
    domain.store.finish("r1", worker="w", status=JobStatus.FAILED)
    assert counts(domain) == {"queued": 1, "running": 0, "held": 0, "live": 0}
    assert domain.store.claim("r2", "w").outcome is ClaimOutcome.CLAIMED
    domain.store.finish("r2", worker="w", status=JobStatus.SUCCEEDED)
    assert sum(counts(domain).values()) == 0


def test_a_lost_worker_requeues_then_fails_without_leaking(domain: JobDomain) -> None:
    make(domain, "l1")
    for attempt in range(2):  # max_attempts 2, lease 0.3 s (conftest)
        assert domain.store.claim("l1", f"w{attempt}").outcome is ClaimOutcome.CLAIMED
        assert counts(domain)["running"] == 1
        time.sleep(0.35)
        outcome = domain.store.requeue_if_lease_expired("l1")
        expected = "requeued" if attempt == 0 else "failed"
        assert outcome == expected
    assert sum(counts(domain).values()) == 0


def test_max_running_holds_the_next_job_until_one_ends(domain: JobDomain) -> None:
    quotas = Quotas(domain.redis, keys=domain.keys)
    make(domain, "m1", max_running=1)
    make(domain, "m2", max_running=1)
    assert domain.store.claim("m1", "w").outcome is ClaimOutcome.CLAIMED
    assert domain.store.claim("m2", "w").outcome is ClaimOutcome.HELD
    held = domain.store.get("m2")
    assert held is not None and held.status is JobStatus.QUEUED
    assert quotas.release_held("a") == []  # still at the cap
    assert counts(domain)["held"] == 1
    domain.store.finish("m1", worker="w", status=JobStatus.SUCCEEDED)
    assert quotas.release_held("a") == ["m2"]
    assert domain.store.claim("m2", "w").outcome is ClaimOutcome.CLAIMED
    assert counts(domain) == {"queued": 0, "running": 1, "held": 0, "live": 0}


def test_live_sessions_count_apart_and_children_never_count(domain: JobDomain) -> None:
    live = Admission(quota=QuotaClass.LIVE, max_live=1)
    make(domain, "s1", admission=live)
    with pytest.raises(QuotaExceeded) as refused:
        make(domain, "s2", admission=live)
    assert refused.value.which == "live"
    make(domain, "child", admission=None)  # a job's own child job: no quota class
    assert counts(domain) == {"queued": 0, "running": 0, "held": 0, "live": 1}
    assert domain.store.claim("child", "w").outcome is ClaimOutcome.CLAIMED
    assert domain.store.claim("s1", "w").outcome is ClaimOutcome.CLAIMED
    domain.store.finish("s1", worker="w", status=JobStatus.CANCELED)
    assert sum(counts(domain).values()) == 0


def test_the_submissions_bucket_refuses_without_creating(domain: JobDomain) -> None:
    one = Bucket(rate_per_s=0.01, burst=1)
    make(domain, "t1", submits=one, identity="key:x")
    with pytest.raises(RateLimited) as refused:
        make(domain, "t2", submits=one, identity="key:x")
    assert refused.value.verdict.retry_after_s == 100
    assert domain.store.get("t2") is None
    assert counts(domain)["queued"] == 1


def test_the_janitor_prunes_entries_of_expired_jobs(domain: JobDomain) -> None:
    make(domain, "e1")
    assert Quotas(domain.redis, keys=domain.keys).prune("a", time.time() + 1) == 1
    assert counts(domain)["queued"] == 0
