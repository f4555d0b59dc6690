"""Recovers jobs of lost workers and expires old data.

Runs inside every worker's heartbeat thread, but one at a time across the
deployment (a short Redis lock), so the work is done once per interval.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from visiovox.jobs.dispatch import Dispatcher, shared_queue
from visiovox.jobs.redis_client import JobDomain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JanitorReport:
    """What one sweep did."""

    requeued: list[str]
    failed: list[str]
    pruned_index_entries: int
    deleted_job_dirs: int


class Janitor:
    """Re-dispatches jobs whose lease expired; drops index entries and files past retention."""

    def __init__(
        self,
        *,
        domain: JobDomain,
        dispatcher: Dispatcher,
        retention_s: int,
        interval_s: float,
    ) -> None:
        self._domain = domain
        self._dispatcher = dispatcher
        self._retention_s = retention_s
        self._interval_s = interval_s

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
            outcome = store.requeue_if_lease_expired(job_id)
            if outcome == "requeued":
                job = store.get(job_id)
                if job is not None:
                    self._dispatcher.dispatch(job_id, queue=job.queue or shared_queue("cpu"))
                    requeued.append(job_id)
                    log.warning("job %s lost its worker; re-dispatched", job_id)
            elif outcome == "failed":
                failed.append(job_id)
                log.error("job %s lost its worker too many times; failed", job_id)
        pruned = store.prune_owner_indexes(time.time() - self._retention_s)
        deleted = self._domain.files.delete_older_than(self._retention_s)
        return JanitorReport(
            requeued=requeued, failed=failed, pruned_index_entries=pruned, deleted_job_dirs=deleted
        )
