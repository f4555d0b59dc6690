"""The janitor on a real Redis: lost jobs go back on their queue; old files and index entries go."""

from __future__ import annotations

import os
import time

from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.janitor import Janitor
from visiovox.jobs.model import Job, JobStatus
from visiovox.jobs.redis_client import JobDomain


def make_janitor(domain: JobDomain, *, retention_s: int = 3600) -> Janitor:
    return Janitor(
        domain=domain, dispatcher=Dispatcher(domain.redis), retention_s=retention_s, interval_s=5
    )


def test_job_of_a_lost_worker_is_requeued_and_dispatched(domain: JobDomain) -> None:
    domain.store.create(Job(id="lost", pipeline="noop", owner="o", queue="q.janitor"))
    domain.store.claim("lost", "dead-worker")
    time.sleep(0.4)  # the test lease is 0.3 s
    report = make_janitor(domain).sweep()
    assert report.requeued == ["lost"]
    job = domain.store.get("lost")
    assert job is not None and job.status is JobStatus.QUEUED
    assert domain.redis.llen("q.janitor") == 1


def test_live_lease_is_left_alone(domain: JobDomain) -> None:
    domain.store.create(Job(id="alive", pipeline="noop", owner="o", queue="q.janitor-alive"))
    domain.store.claim("alive", "w1")
    assert make_janitor(domain).sweep().requeued == []
    assert domain.redis.llen("q.janitor-alive") == 0


def test_old_files_and_index_entries_expire(domain: JobDomain) -> None:
    old = domain.files.output_dir("old")
    old.mkdir(parents=True)
    (old / "speech.wav").write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    os.utime(domain.files.job_dir("old"), (two_hours_ago, two_hours_ago))
    domain.files.output_dir("new").mkdir(parents=True)
    domain.store.create(Job(id="stale", pipeline="noop", owner="o", created_at=two_hours_ago))
    report = make_janitor(domain).sweep()
    assert report.deleted_job_dirs == 1
    assert not domain.files.job_dir("old").exists() and domain.files.job_dir("new").exists()
    assert report.pruned_index_entries == 1


def test_one_sweep_per_interval_across_processes(domain: JobDomain) -> None:
    janitor = make_janitor(domain)
    assert janitor.sweep_if_due("w1") is not None
    assert janitor.sweep_if_due("w2") is None
