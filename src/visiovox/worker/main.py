"""Starts a worker process: one device, one job at a time, engines loaded once.

The solo pool runs jobs in this very process, so engines load where they are
used (never before a fork; NVIDIA: CUDA does not survive ``fork()``) and a
``kill -9`` takes the job with it, which the lease and the janitor recover.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from celery import Celery
from celery.signals import worker_ready, worker_shutting_down

from visiovox.config import Settings
from visiovox.jobs.dispatch import (
    RUN_JOB_TASK,
    Dispatcher,
    device_class,
    private_queue,
    shared_queue,
)
from visiovox.jobs.janitor import Janitor
from visiovox.jobs.redis_client import build_domain
from visiovox.jobs.workers import WorkerRegistry, WorkerState
from visiovox.models.engine_pool import EnginePool
from visiovox.worker.celery_app import make_celery
from visiovox.worker.heartbeat import Heartbeat
from visiovox.worker.runner import JobRunner
from visiovox.worker.state import WorkerStatus, default_worker_name

log = logging.getLogger(__name__)


def register_run_job(celery: Celery, runner: JobRunner) -> None:
    """Register ``visiovox.run_job(job_id)`` on ``celery``, bound to this worker's runner."""

    @celery.task(name=RUN_JOB_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
    def run_job(job_id: str) -> None:
        runner.run(job_id)


def run_worker(settings: Settings, *, device: str, name: str | None = None) -> None:
    """Run a worker until it is told to stop (SIGTERM/SIGINT: finish the job, then exit)."""
    worker_name = name or settings.worker.name or default_worker_name(device)
    queues = [shared_queue(device_class(device)), private_queue(worker_name)]
    domain = build_domain(settings)
    pool = EnginePool(settings=settings, device=device)
    status = WorkerStatus(name=worker_name, device=device, queues=queues)
    celery = make_celery(settings)
    runner = JobRunner(
        domain=domain,
        pool=pool,
        status=status,
        progress_max_hz=settings.jobs.progress_max_hz,
        cancel_poll_s=settings.jobs.cancel_poll_s,
    )
    register_run_job(celery, runner)
    heartbeat = Heartbeat(
        status=status,
        domain=domain,
        registry=WorkerRegistry(
            domain.redis, keys=domain.keys, ttl_s=3 * settings.worker.heartbeat_s
        ),
        pool=pool,
        janitor=Janitor(
            domain=domain,
            dispatcher=Dispatcher(domain.redis),
            retention_s=settings.storage.retention_s,
            interval_s=settings.jobs.janitor_interval_s,
        ),
        interval_s=settings.worker.heartbeat_s,
    )

    def on_ready(**_: Any) -> None:
        status.set_state(WorkerState.READY)
        log.info("worker %s ready on %s, queues %s", worker_name, device, ", ".join(queues))

    def on_shutting_down(**_: Any) -> None:
        status.set_state(WorkerState.DRAINING)

    worker_ready.connect(on_ready, weak=False)
    worker_shutting_down.connect(on_shutting_down, weak=False)
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
                "--without-heartbeat",
            ]
        )
    finally:
        heartbeat.stop()
        pool.close()


def _celery_hostname(worker_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", worker_name) + "@visiovox"
