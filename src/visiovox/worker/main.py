"""Starts a worker process: one device, one job at a time, engines loaded once.

The solo pool runs jobs in this very process, so engines load where they are
used (never before a fork; NVIDIA: CUDA does not survive ``fork()``) and a
``kill -9`` takes the job with it, which the lease and the janitor recover.
The CLI pins the device (``worker/device.py``) before this module is imported.
A worker over its memory ceiling (``worker/memory.py``) finishes and acknowledges
its job, then stops Celery's loop and exits with ``EXIT_RECYCLE`` (75) for its
supervisor to start a fresh process: with the solo pool there is no child for
Celery's ``worker_max_memory_per_child`` to replace.

Before it consumes, a worker moves this deployment's messages off the queue
names of before (``jobs/legacy_queues.py``): the workers are what reads queues,
and every deployment has one however it is started (``visiovox up``, or alone).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import redis
from celery import Celery
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    worker_ready,
    worker_shutting_down,
)
from celery.worker import state as celery_state

from visiovox.config import Settings
from visiovox.engines.free_cores import free_cores
from visiovox.engines.pool import EnginePool
from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.janitor import Janitor
from visiovox.jobs.legacy_queues import move_legacy_messages
from visiovox.jobs.queues import device_class, private_queue, shared_queue
from visiovox.jobs.redis_client import JobDomain, build_domain, connect
from visiovox.jobs.task_message import RUN_JOB_TASK
from visiovox.jobs.workers import WORKER_TTL_HEARTBEATS, WorkerRegistry, WorkerState
from visiovox.logs import install_redaction
from visiovox.pipelines.registry import PIPELINES
from visiovox.worker.celery_app import make_celery
from visiovox.worker.cpu_priority import CpuPriority
from visiovox.worker.device import DeviceAssignment, DeviceProbe
from visiovox.worker.drain import Drain
from visiovox.worker.heartbeat import Heartbeat
from visiovox.worker.live_link import live_links
from visiovox.worker.memory import EXIT_RECYCLE, MIB, MemoryCeiling
from visiovox.worker.metrics import WorkerMetrics
from visiovox.worker.runner import JobRunner
from visiovox.worker.state import WorkerStatus, default_worker_name
from visiovox.worker.voice_copies import voice_copies

log = logging.getLogger(__name__)


def register_run_job(celery: Celery, runner: JobRunner) -> None:
    """Register ``visiovox.run_job(job_id)`` on ``celery``, bound to this worker's runner."""

    @celery.task(name=RUN_JOB_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
    def run_job(job_id: str) -> None:
        runner.run(job_id)


def worker_registry(settings: Settings, domain: JobDomain) -> WorkerRegistry:
    ttl_s = WORKER_TTL_HEARTBEATS * settings.worker.heartbeat_s
    return WorkerRegistry(domain.redis, keys=domain.keys, ttl_s=ttl_s)


def move_messages_of_before(domain: JobDomain, worker_name: str) -> None:
    """Move this deployment's messages off the queue names of before (``jobs/legacy_queues.py``)."""
    try:
        moved = move_legacy_messages(domain, worker_names=[worker_name])
    except redis.RedisError:
        # Redis is not up yet: the janitor's search for lost messages finds them later.
        log.warning("could not look for messages under the queue names of before", exc_info=True)
        return
    if moved:
        log.warning("moved %d queued job(s) off the queue names of before", len(moved))


def run_worker(settings: Settings, *, device: DeviceAssignment, name: str | None = None) -> int:
    """Run a worker until it is told to stop (SIGTERM: drain; a second SIGTERM: stop now).

    Answers the process's exit code: 0, or ``EXIT_RECYCLE`` after a job left it
    over its memory ceiling.
    """
    worker_name = name or settings.worker.name or default_worker_name(device.requested)
    prefix = settings.redis.prefix
    queues = [
        shared_queue(device_class(device.requested), prefix=prefix),
        private_queue(worker_name, prefix=prefix),
    ]
    domain = build_domain(
        settings, connect(settings, max_connections=settings.redis.worker_max_connections)
    )
    pool = EnginePool(settings=settings, device=device.local)
    probe = DeviceProbe(device)
    port = settings.worker.metrics_port or None
    status = WorkerStatus(
        name=worker_name, device=device.requested, queues=queues, metrics_port=port
    )
    registry = worker_registry(settings, domain)
    janitor = Janitor(
        domain=domain,
        dispatcher=Dispatcher(domain.redis),
        registry=registry,
        pipelines=list(PIPELINES),
        retention_s=settings.storage.retention_s,
        interval_s=settings.jobs.janitor_interval_s,
    )
    heartbeat = Heartbeat(
        status=status,
        domain=domain,
        registry=registry,
        pool=pool,
        probe=probe,
        janitor=janitor,
        interval_s=settings.worker.heartbeat_s,
        voice_copies=voice_copies(settings, domain.redis),
    )
    metrics = WorkerMetrics(status=status, pool=pool, probe=probe)
    if port is not None and not metrics.serve(host=settings.worker.metrics_host, port=port):
        status.metrics_port = None
    recycling = False

    def recycle() -> None:
        # Runs in the task, before Celery acknowledges its message; Celery's loop
        # checks should_stop before it takes the next one, and stops cleanly.
        nonlocal recycling
        recycling = True
        celery_state.should_stop = EXIT_RECYCLE
        status.start_draining()  # wakes the heartbeat, which publishes it

    memory = MemoryCeiling.from_settings(settings.worker)
    runner = JobRunner(
        domain=domain,
        pool=pool,
        status=status,
        progress_max_hz=settings.jobs.progress_max_hz,
        cancel_poll_s=settings.jobs.cancel_poll_s,
        announce=heartbeat.announce,
        observer=metrics,
        live_links=live_links(settings, domain.redis, domain.keys),
        cpu_priority=CpuPriority(settings.worker.cpu_priority, cores=free_cores()),
        memory=memory,
        on_recycle=recycle,
        workers=registry,
    )
    celery = make_celery(settings)
    register_run_job(celery, runner)

    def stop_now() -> None:
        job_id = status.current_job
        heartbeat.deregister()
        if job_id is not None and domain.store.release_lease(job_id, worker_name):
            janitor.recover(job_id)

    drain = Drain(
        status=status,
        announce=heartbeat.announce,
        stop_now=stop_now,
        timeout_s=settings.worker.drain_timeout_s,
    )

    def on_ready(**_: Any) -> None:
        status.set_state(WorkerState.READY)
        log.info(
            "worker %s ready on %s (%s), queues %s, memory ceiling %d MiB",
            worker_name,
            device.requested,
            probe.read().name,
            ", ".join(queues),
            memory.limit_bytes // MIB,
        )

    move_messages_of_before(domain, worker_name)
    # Celery gives its task logger a handler of its own: secrets out of it too.
    after_setup_logger.connect(_redact_celery_logger, weak=False)
    after_setup_task_logger.connect(_redact_celery_logger, weak=False)
    worker_ready.connect(on_ready, weak=False)
    worker_shutting_down.connect(drain.on_shutting_down, weak=False)
    drain.start()
    heartbeat.start()
    try:
        celery.worker_main(
            [
                "worker",
                "--pool=solo",
                "--concurrency=1",
                f"--hostname={_celery_hostname(worker_name)}",
                f"--queues={','.join(queues)}",
                f"--loglevel={settings.log_level}",
                "--without-gossip",
                "--without-mingle",
                *([] if settings.worker.celery_events else ["--without-heartbeat"]),
            ]
        )
    finally:
        heartbeat.stop()
        drain.close()
        pool.close()
        probe.close()
    if recycling:
        log.warning("worker %s exits with %d to be started afresh", worker_name, EXIT_RECYCLE)
        return EXIT_RECYCLE
    return 0


def _redact_celery_logger(logger: logging.Logger, **_: Any) -> None:
    install_redaction(logger)


def _celery_hostname(worker_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", worker_name) + "@visiovox"
