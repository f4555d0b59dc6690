"""The janitor on a real Redis: lost jobs go back on their queue; old files and index entries go."""

from __future__ import annotations

import os
import time

from tests.unit.jobs.helpers import create_job
from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.janitor import Janitor
from visiovox.jobs.model import Job, JobStatus, QuotaClass
from visiovox.jobs.queues import DeviceClass, Priority, Route, priority_list, shared_queue
from visiovox.jobs.records import Claim, ClaimOutcome
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.workers import WorkerRegistry


def make_janitor(domain: JobDomain, *, retention_s: int = 3600) -> Janitor:
    return Janitor(
        domain=domain,
        dispatcher=Dispatcher(domain.redis),
        registry=WorkerRegistry(domain.redis, keys=domain.keys, ttl_s=1),
        pipelines=["noop"],
        retention_s=retention_s,
        interval_s=5,
    )


def test_job_of_a_lost_worker_is_requeued_and_dispatched(domain: JobDomain) -> None:
    # Sent to a worker's private queue: it comes back on the shared queue of its class.
    route = Route(device_class=DeviceClass.GPU, queue="vv.worker.dead", priority=Priority.HIGH)
    create_job(domain, Job(id="lost", pipeline="noop", owner="o"), route=route)
    domain.redis.delete("vv.worker.dead")
    domain.store.claim("lost", "dead-worker")
    time.sleep(0.4)  # the test lease is 0.3 s
    report = make_janitor(domain).sweep()
    assert report.requeued == ["lost"]
    job = domain.store.get("lost")
    assert job is not None and job.status is JobStatus.QUEUED
    # Back on the shared queue of this deployment's prefix.
    gpu = shared_queue("gpu", prefix=domain.keys.prefix)
    assert "lost" in domain.redis.lrange(priority_list(gpu, Priority.HIGH), 0, -1)[0].decode()
    assert "lost" in Dispatcher(domain.redis).drain_queue(gpu)


def test_live_lease_is_left_alone(domain: JobDomain) -> None:
    create_job(domain, Job(id="alive", pipeline="noop", owner="o", device_class="cpu"))
    domain.store.claim("alive", "w1")
    assert make_janitor(domain).sweep().requeued == []
    cpu = shared_queue("cpu", prefix=domain.keys.prefix)
    assert "alive" not in Dispatcher(domain.redis).drain_queue(cpu)


def test_old_files_and_index_entries_expire(domain: JobDomain) -> None:
    jobs = domain.files.root / "jobs"
    (jobs / "old" / "out").mkdir(parents=True)
    (jobs / "old" / "out" / "speech.wav").write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    os.utime(jobs / "old", (two_hours_ago, two_hours_ago))
    (jobs / "new" / "out").mkdir(parents=True)
    create_job(domain, Job(id="stale", pipeline="noop", owner="o", created_at=two_hours_ago))
    report = make_janitor(domain).sweep()
    assert report.deleted_job_dirs == 1
    assert not (jobs / "old").exists() and (jobs / "new").exists()
    assert report.pruned_index_entries == 1


def test_one_sweep_per_interval_across_processes(domain: JobDomain) -> None:
    janitor = make_janitor(domain)
    assert janitor.sweep_if_due("w1") is not None
    assert janitor.sweep_if_due("w2") is None


def test_live_session_job_of_a_lost_worker_fails_worker_lost_never_requeued(
    domain: JobDomain,
) -> None:
    # A live session's job (quota class live) beside a normal job, both of a dead worker.
    live = Job(id="session", pipeline="noop", owner="o", device_class="cpu", quota=QuotaClass.LIVE)
    create_job(domain, live)
    create_job(domain, Job(id="batch", pipeline="noop", owner="o", device_class="cpu"))
    cpu = shared_queue("cpu", prefix=domain.keys.prefix)
    Dispatcher(domain.redis).drain_queue(cpu)
    domain.store.claim("session", "dead-worker")
    domain.store.claim("batch", "dead-worker")
    time.sleep(0.4)  # the test lease is 0.3 s
    report = make_janitor(domain).sweep()
    assert report.failed == ["session"]
    assert report.requeued == ["batch"]
    job = domain.store.get("session")
    assert job is not None and job.status is JobStatus.FAILED
    assert job.error is not None and job.error.code == "worker_lost"
    assert "live session" in job.error.message
    assert Dispatcher(domain.redis).drain_queue(cpu) == ["batch"]
    assert make_janitor(domain).sweep().requeued == []


def test_redelivered_message_of_a_live_session_fails_it_instead_of_starting_again(
    domain: JobDomain,
) -> None:
    # Celery hands the message of a started session to another worker: the claim fails it.
    live = Job(id="session", pipeline="noop", owner="o", device_class="cpu", quota=QuotaClass.LIVE)
    create_job(domain, live)
    create_job(domain, Job(id="batch", pipeline="noop", owner="o", device_class="cpu"))
    for job_id in ("session", "batch"):
        assert domain.store.claim(job_id, "dead-worker").outcome is ClaimOutcome.CLAIMED
    time.sleep(0.4)
    claim = domain.store.claim("session", "other-worker")
    assert claim.outcome is ClaimOutcome.EXHAUSTED
    job = domain.store.get("session")
    assert job is not None and job.status is JobStatus.FAILED and job.worker == "dead-worker"
    assert job.error is not None and job.error.code == "worker_lost"
    assert domain.store.claim("batch", "other-worker") == Claim(ClaimOutcome.CLAIMED, 2)
