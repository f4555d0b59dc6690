"""JobStore on a real Redis: creation, claims, leases, finish, cancel, requeue."""

from __future__ import annotations

import time

import pytest
import redis.asyncio

from tests.unit.jobs.helpers import create_job
from visiovox.config import Settings
from visiovox.jobs.model import EventType, Job, JobError, JobStatus, OutputFile
from visiovox.jobs.queues import DeviceClass, Priority, Route
from visiovox.jobs.records import ClaimOutcome
from visiovox.jobs.redis_client import JobDomain


def new_job(domain: JobDomain, job_id: str = "j1", owner: str = "alice") -> Job:
    job, created = create_job(domain, Job(id=job_id, pipeline="noop", owner=owner))
    assert created
    return job


def event_types(domain: JobDomain, job_id: str) -> list[EventType]:
    return [event.type for event in domain.events.read_after(job_id)]


def test_claim_is_exclusive_while_the_lease_lives(domain: JobDomain) -> None:
    new_job(domain)
    assert domain.store.claim("j1", "w1").outcome is ClaimOutcome.CLAIMED
    assert domain.store.claim("j1", "w2").outcome is ClaimOutcome.LEASED
    job = domain.store.get("j1")
    assert job is not None
    assert (job.status, job.worker, job.attempts) == (JobStatus.RUNNING, "w1", 1)
    assert event_types(domain, "j1") == [EventType.QUEUED, EventType.STARTED]


def test_a_claim_repeated_by_the_lease_holder_is_the_same_attempt(domain: JobDomain) -> None:
    # The worker retries a claim whose reply a Redis restart swallowed.
    new_job(domain)
    assert domain.store.claim("j1", "w1").attempt == 1
    again = domain.store.claim("j1", "w1")
    assert (again.outcome, again.attempt) == (ClaimOutcome.CLAIMED, 1)
    job = domain.store.get("j1")
    assert job is not None and job.attempts == 1
    assert event_types(domain, "j1") == [EventType.QUEUED, EventType.STARTED]


def test_missing_and_terminal_jobs_are_not_claimed(domain: JobDomain) -> None:
    assert domain.store.claim("nope", "w1").outcome is ClaimOutcome.MISSING
    new_job(domain)
    domain.store.claim("j1", "w1")
    assert domain.store.finish("j1", worker="w1", status=JobStatus.SUCCEEDED)
    assert domain.store.claim("j1", "w2").outcome is ClaimOutcome.TERMINAL


def test_finish_records_outputs_and_only_once(domain: JobDomain) -> None:
    new_job(domain)
    domain.store.claim("j1", "w1")
    output = OutputFile(name="speech.wav", content_type="audio/wav", size=10)
    assert domain.store.finish(
        "j1", worker="w1", status=JobStatus.SUCCEEDED, outputs=[output], result={"a": 1}
    )
    assert not domain.store.finish("j1", worker="w1", status=JobStatus.FAILED)
    job = domain.store.get("j1")
    assert job is not None
    assert job.status is JobStatus.SUCCEEDED
    assert job.outputs == [output]
    assert job.result == {"a": 1}
    assert event_types(domain, "j1").count(EventType.SUCCEEDED) == 1


def test_another_worker_cannot_finish(domain: JobDomain) -> None:
    new_job(domain)
    domain.store.claim("j1", "w1")
    assert not domain.store.finish("j1", worker="w2", status=JobStatus.SUCCEEDED)


def test_lease_renewal_keeps_the_claim(domain: JobDomain) -> None:
    new_job(domain)
    domain.store.claim("j1", "w1")
    for _ in range(4):
        time.sleep(0.15)
        assert domain.store.renew_lease("j1", "w1")
    assert domain.store.requeue_if_lease_expired("j1") == "alive"
    assert not domain.store.renew_lease("j1", "w2")


def test_expired_lease_requeues_then_fails_past_max_attempts(domain: JobDomain) -> None:
    new_job(domain)
    domain.store.claim("j1", "w1")
    time.sleep(0.4)
    assert domain.store.requeue_if_lease_expired("j1") == "requeued"
    assert domain.store.running_job_ids() == []
    assert domain.store.claim("j1", "w2").attempt == 2
    time.sleep(0.4)
    assert domain.store.requeue_if_lease_expired("j1") == "failed"
    job = domain.store.get("j1")
    assert job is not None and job.error is not None
    assert (job.status, job.error.code) == (JobStatus.FAILED, "worker_lost")


def test_finish_after_a_lapsed_lease_still_counts_if_nobody_took_over(domain: JobDomain) -> None:
    new_job(domain)
    domain.store.claim("j1", "w1")
    time.sleep(0.4)
    assert domain.store.finish("j1", worker="w1", status=JobStatus.SUCCEEDED)


def test_cancel_queued_is_immediate_and_running_is_flagged(domain: JobDomain) -> None:
    new_job(domain, "q")
    assert domain.store.request_cancel("q") == "canceled"
    assert domain.store.claim("q", "w1").outcome is ClaimOutcome.TERMINAL
    new_job(domain, "r")
    domain.store.claim("r", "w1")
    assert domain.store.request_cancel("r") == "cancel_requested"
    assert domain.store.is_cancel_requested("r")
    assert domain.store.request_cancel("nope") == "missing"


def test_failed_job_keeps_its_error(domain: JobDomain) -> None:
    new_job(domain)
    domain.store.claim("j1", "w1")
    error = JobError(code="no_speech", message="nothing was said")
    domain.store.finish("j1", worker="w1", status=JobStatus.FAILED, error=error)
    job = domain.store.get("j1")
    assert job is not None and job.error == error
    [failed] = [e for e in domain.events.read_after("j1") if e.type is EventType.FAILED]
    assert failed.data == {"code": "no_speech", "message": "nothing was said"}


def test_idempotency_key_returns_the_first_job(domain: JobDomain) -> None:
    first, created = create_job(
        domain, Job(id="a", pipeline="noop", owner="o"), idempotency_key="k"
    )
    again, created_again = create_job(
        domain, Job(id="b", pipeline="noop", owner="o"), idempotency_key="k"
    )
    assert created and not created_again
    assert again.id == first.id
    assert domain.store.get("b") is None


def test_event_log_reads_after_an_id(domain: JobDomain) -> None:
    ids = [domain.events.append("e", EventType.LOG, {"n": n}) for n in range(5)]
    assert [e.data["n"] for e in domain.events.read_after("e", ids[1])] == [2, 3, 4]
    assert [e.id for e in domain.events.read_after("e")] == ids


@pytest.mark.anyio
async def test_create_stores_the_job_and_its_task_together(
    domain: JobDomain, settings: Settings
) -> None:
    client = redis.asyncio.Redis.from_url(str(settings.redis.url))
    job = Job(id="async1", pipeline="noop", owner="o")
    route = Route(device_class=DeviceClass.CPU, queue="q.test", priority=Priority.HIGH)
    _, created = await domain.store.create(client, job, idempotency_key="k1", route=route)
    again, created_again = await domain.store.create(
        client, Job(id="async2", pipeline="noop", owner="o", queue="q.test"), idempotency_key="k1"
    )
    await client.aclose()
    assert created and not created_again and again.id == "async1"
    assert domain.store.get("async1") is not None
    assert domain.redis.llen("q.test") == 1
    assert [e.type for e in domain.events.read_after("async1")] == [EventType.QUEUED]
