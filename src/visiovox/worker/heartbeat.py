"""The heartbeat thread: publishes this worker's state, renews its job's lease, runs the janitor
and prunes the local copies of deleted voices.

It beats every ``interval_s`` and at once when the state changes. The job
thread also publishes synchronously (``announce``) when it starts and ends a
job, so a client that sees a job finish also sees its worker ``ready`` again,
and the scheduler's next placement can use it.
"""

from __future__ import annotations

import logging
import threading

import redis

from visiovox.engines.pool import EnginePool
from visiovox.jobs.janitor import Janitor
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.workers import WorkerRegistry
from visiovox.worker.device import DeviceProbe
from visiovox.worker.state import WorkerStatus
from visiovox.worker.voice_copies import VoiceCopies

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
        probe: DeviceProbe,
        janitor: Janitor,
        interval_s: float,
        voice_copies: VoiceCopies | None = None,
    ) -> None:
        super().__init__(name="visiovox-heartbeat", daemon=True)
        self._status = status
        self._domain = domain
        self._registry = registry
        self._pool = pool
        self._probe = probe
        self._janitor = janitor
        self._interval_s = interval_s
        self._voice_copies = voice_copies
        self._stopping = threading.Event()
        self._publish_lock = threading.Lock()
        self._removed = False

    def announce(self) -> None:
        """Publish the current state now (from any thread); not after ``deregister``."""
        with self._publish_lock:
            if self._removed:
                return
            engines = [stats.to_json() for stats in self._pool.stats()]
            snapshot = self._status.snapshot(
                engines=engines, device=self._probe.read(), engine_memory=self._pool.memory()
            )
            self._registry.publish(snapshot)

    def beat(self) -> None:
        """One heartbeat: lease, idle engines, registration, janitor, voice copies."""
        job_id = self._status.current_job
        if job_id is not None and not self._domain.store.renew_lease(job_id, self._status.name):
            log.warning("lease on job %s is no longer ours", job_id)
        self._pool.sweep()
        self.announce()
        self._janitor.sweep_if_due(self._status.name)
        if self._voice_copies is not None:
            self._voice_copies.prune_if_due()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.beat()
            except redis.RedisError as exc:
                log.warning("heartbeat failed (%s); retrying", exc)
            except Exception:  # a bug in one beat must not stop every later one
                log.exception("heartbeat failed; retrying")
            self._status.changed.wait(self._interval_s)
            self._status.changed.clear()

    def deregister(self) -> None:
        """Remove the registration, then hand the private queue's jobs back to shared queues."""
        with self._publish_lock:
            self._removed = True
        try:
            self._registry.remove(self._status.name)
            self._janitor.hand_back(self._status.name)
        except redis.RedisError as exc:
            log.warning("could not deregister %s: %s", self._status.name, exc)

    def stop(self) -> None:
        self._stopping.set()
        self._status.changed.set()
        self.join(timeout=5)
        self.deregister()
