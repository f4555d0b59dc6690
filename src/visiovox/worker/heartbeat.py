"""The heartbeat thread: publishes this worker's state, renews its job's lease, runs the janitor."""

from __future__ import annotations

import logging
import threading

import redis

from visiovox.jobs.janitor import Janitor
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.workers import WorkerRegistry
from visiovox.models.engine_pool import EnginePool
from visiovox.worker.state import WorkerStatus

log = logging.getLogger(__name__)


class Heartbeat(threading.Thread):
    """Beats every ``interval_s`` and whenever the worker's state changes."""

    def __init__(
        self,
        *,
        status: WorkerStatus,
        domain: JobDomain,
        registry: WorkerRegistry,
        pool: EnginePool,
        janitor: Janitor,
        interval_s: float,
    ) -> None:
        super().__init__(name="visiovox-heartbeat", daemon=True)
        self._status = status
        self._domain = domain
        self._registry = registry
        self._pool = pool
        self._janitor = janitor
        self._interval_s = interval_s
        self._stopping = threading.Event()

    def beat(self) -> None:
        """One heartbeat: lease, idle engines, registration, janitor."""
        job_id = self._status.current_job
        if job_id is not None and not self._domain.store.renew_lease(job_id, self._status.name):
            log.warning("lease on job %s is no longer ours", job_id)
        self._pool.sweep()
        engines = [stats.to_json() for stats in self._pool.stats()]
        snapshot = self._status.snapshot(engines=engines, engine_memory=self._pool.memory())
        self._registry.publish(snapshot)
        self._janitor.sweep_if_due(self._status.name)

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.beat()
            except redis.RedisError as exc:
                log.warning("heartbeat failed (%s); retrying", exc)
            self._status.changed.wait(self._interval_s)
            self._status.changed.clear()

    def stop(self) -> None:
        self._stopping.set()
        self._status.changed.set()
        self.join(timeout=5)
        try:
            self._registry.remove(self._status.name)
        except redis.RedisError as exc:
            log.warning("could not deregister %s: %s", self._status.name, exc)
