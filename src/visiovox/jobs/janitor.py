"""Recovers jobs of lost workers and expires old data.

Runs inside every worker's heartbeat thread, but one at a time across the
deployment (a short Redis lock), so the work is done once per interval.
A lost worker leaves two things behind: the job it was running (its lease
lapses; the job is re-dispatched, but a live session's job fails ``worker_lost``
at once: its session died with the worker, ``jobs/scripts.py``) and the jobs
waiting on its private queue, which nobody else reads (handed back to the
shared queue of their class).
A lost message (a Redis restart or a worker's death at the moment of delivery)
leaves a queued job that nothing would run: re-dispatched too (``jobs/orphans.py``),
as is the stitch of a segmented job whose message was lost the same way.
A recovered job frees a place under its owner's running cap: the owner's held
jobs are dispatched again (``dispatch_held``, which the worker also calls
after each job), and the owners' quota sets lose the entries of expired jobs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.keys import as_text
from visiovox.jobs.model import Job, JobStatus, QuotaClass
from visiovox.jobs.orphans import missing_messages
from visiovox.jobs.queues import is_shared_queue, private_queue, shared_queue, shared_queues
from visiovox.jobs.quotas import Quotas
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.workers import WorkerRegistry

log = logging.getLogger(__name__)

# Queued jobs per pipeline looked at by one search for lost messages, oldest first.
ORPHAN_CANDIDATES = 1_000


@dataclass(frozen=True)
class JanitorReport:
    """What one sweep did."""

    requeued: list[str]
    failed: list[str]
    handed_back: list[str]
    pruned_index_entries: int
    pruned_queued_entries: int
    deleted_job_dirs: int
    # Queued jobs whose message was lost, dispatched again.
    redispatched: list[str] = field(default_factory=list)
    pruned_quota_entries: int = 0


def fallback_queue(job: Job, *, prefix: str) -> str:
    """The shared queue a job goes back to: its device class's (never a private queue)."""
    if job.device_class:
        return shared_queue(job.device_class, prefix=prefix)
    if job.queue and is_shared_queue(job.queue, prefix=prefix):
        return job.queue
    return shared_queue("cpu", prefix=prefix)


def dispatch_held(
    domain: JobDomain, *, quotas: Quotas, dispatcher: Dispatcher, owner: str
) -> list[str]:
    """Dispatch the owner's held jobs that may run now, first in line (they waited their turn)."""
    dispatched: list[str] = []
    for job_id in quotas.release_held(owner):
        job = domain.store.get(job_id)
        if job is None or job.status is not JobStatus.QUEUED:
            continue
        queue = fallback_queue(job, prefix=domain.keys.prefix)
        dispatcher.dispatch(job_id, queue=queue, priority=job.priority, first=True)
        dispatched.append(job_id)
    return dispatched


class Janitor:
    """Re-dispatches lost jobs; drops index entries and files past retention."""

    def __init__(
        self,
        *,
        domain: JobDomain,
        dispatcher: Dispatcher,
        registry: WorkerRegistry,
        pipelines: Sequence[str],
        retention_s: int,
        interval_s: float,
    ) -> None:
        self._domain = domain
        self._dispatcher = dispatcher
        self._registry = registry
        self._pipelines = list(pipelines)
        self._retention_s = retention_s
        self._interval_s = interval_s
        self._prefix = domain.keys.prefix
        self._quotas = Quotas(domain.redis, keys=domain.keys)

    def _fallback(self, job: Job) -> str:
        """The shared queue ``job`` goes back to, among this deployment's."""
        return fallback_queue(job, prefix=self._prefix)

    def sweep_if_due(self, owner: str) -> JanitorReport | None:
        """Sweep unless another process swept within the interval."""
        acquired = self._domain.redis.set(
            self._domain.keys.janitor_lock, owner, nx=True, px=int(self._interval_s * 1000)
        )
        return self.sweep() if acquired else None

    def sweep(self) -> JanitorReport:
        requeued: list[str] = []
        failed: list[str] = []
        store = self._domain.store
        for job_id in store.running_job_ids():
            outcome = self.recover(job_id)
            if outcome == "requeued":
                requeued.append(job_id)
            elif outcome == "failed":
                failed.append(job_id)
        handed_back: list[str] = []
        for name in self._registry.expired():
            handed_back += self.hand_back(name)
            self._registry.forget(name)
        redispatched = self.redispatch_lost_messages() if self._orphan_search_due() else []
        cutoff = time.time() - self._retention_s
        pruned = store.prune_owner_indexes(cutoff)
        owners = self._domain.redis.smembers(self._domain.keys.owners)
        pruned_quota = sum(self._quotas.prune(as_text(owner), cutoff) for owner in owners)
        pruned_queued = store.prune_queued(self._pipelines, cutoff)
        deleted = self._domain.files.delete_older_than(self._retention_s)
        return JanitorReport(
            requeued=requeued,
            failed=failed,
            handed_back=handed_back,
            pruned_index_entries=pruned,
            pruned_queued_entries=pruned_queued,
            deleted_job_dirs=deleted,
            redispatched=redispatched,
            pruned_quota_entries=pruned_quota,
        )

    def recover(self, job_id: str) -> str:
        """Re-dispatch a running job whose lease lapsed (or fail it: past its attempts, live)."""
        store = self._domain.store
        outcome = store.requeue_if_lease_expired(job_id)
        job = store.get(job_id) if outcome in ("requeued", "failed", "canceled") else None
        if outcome == "requeued" and job is not None:
            self._dispatcher.dispatch(job_id, queue=self._fallback(job), priority=job.priority)
            log.warning("job %s lost its worker; re-dispatched", job_id)
        elif outcome == "failed" and job is not None and job.quota is QuotaClass.LIVE:
            log.error("live session job %s lost its worker; failed worker_lost", job_id)
        elif outcome == "failed":
            log.error("job %s lost its worker too many times; failed", job_id)
        if job is not None and job.max_running:
            dispatch_held(
                self._domain, quotas=self._quotas, dispatcher=self._dispatcher, owner=job.owner
            )
        return outcome

    def _orphan_search_due(self) -> bool:
        """At most one search per lease across the deployment (it may read every queue)."""
        lock = f"{self._domain.keys.janitor_lock}:orphans"
        lease_ms = int(self._domain.store.lease_s * 1000)
        return bool(self._domain.redis.set(lock, "1", nx=True, px=lease_ms))

    def redispatch_lost_messages(self) -> list[str]:
        """Dispatch again the jobs queued for over a lease whose message is gone."""
        store = self._domain.store
        cutoff = time.time() - store.lease_s
        candidates = store.queued_created_before(self._pipelines, cutoff, limit=ORPHAN_CANDIDATES)
        candidates += self._unclaimed_stitches(cutoff)
        if not candidates:
            return []
        workers = self._domain.redis.smembers(self._domain.keys.workers)
        queues = shared_queues(self._prefix)
        queues += [private_queue(as_text(name), prefix=self._prefix) for name in workers]
        lost = missing_messages(
            self._domain.redis, job_ids=candidates, queues=queues, delivered_since=cutoff
        )
        redispatched: list[str] = []
        for job_id in lost:
            job = store.get(job_id)
            if job is None or not (job.status is JobStatus.QUEUED or _awaits_stitch(job)):
                continue  # claimed or canceled meanwhile
            # It has waited its turn: next in line, not behind the queue.
            queue = self._fallback(job)
            self._dispatcher.dispatch(job_id, queue=queue, priority=job.priority, first=True)
            redispatched.append(job_id)
        if redispatched:
            log.warning(
                "re-dispatched %d queued job(s) whose message was lost: %s",
                len(redispatched),
                ", ".join(redispatched),
            )
        return redispatched

    def _unclaimed_stitches(self, cutoff: float) -> list[str]:
        """Segmented jobs whose stitch was queued before ``cutoff`` and no worker has claimed
        (the others leave the set)."""
        keys, client, store = self._domain.keys, self._domain.redis, self._domain.store
        key, running = keys.stitch_waiting, set(store.running_job_ids())
        unclaimed: list[str] = []
        for job_id in map(as_text, client.zrangebyscore(key, "-inf", cutoff)):
            job = store.get(job_id)
            claimed = job_id in running or client.exists(keys.lease(job_id))
            if job is None or claimed or not _awaits_stitch(job):
                client.zrem(key, job_id)
            else:
                unclaimed.append(job_id)
        return unclaimed

    def hand_back(self, worker_name: str) -> list[str]:
        """Move the jobs waiting on ``worker_name``'s private queue to their shared queues."""
        moved: list[str] = []
        for job_id in self._dispatcher.drain_queue(private_queue(worker_name, prefix=self._prefix)):
            job = self._domain.store.get(job_id)
            if job is None or job.status is not JobStatus.QUEUED:
                continue
            self._dispatcher.dispatch(job_id, queue=self._fallback(job), priority=job.priority)
            moved.append(job_id)
        if moved:
            log.warning("handed %d job(s) of worker %s back", len(moved), worker_name)
        return moved


def _awaits_stitch(job: Job) -> bool:
    """Whether ``job`` is a segmented job whose children are done, waiting for its stitch."""
    return job.status is JobStatus.RUNNING and job.phase == "stitch"
