"""Sends a job to the workers: picks a queue and publishes ``run_job(job_id)``."""

from __future__ import annotations

from celery import Celery

from visiovox.pipelines.spec import PipelineSpec

RUN_JOB_TASK = "visiovox.run_job"


def shared_queue(device_class: str) -> str:
    """The queue every worker of a device class (``cpu``, ``gpu``) consumes."""
    return f"vv.{device_class}"


def choose_queue(spec: PipelineSpec) -> str:
    """The queue for a job of ``spec``: the CPU queue when the pipeline can run there."""
    return shared_queue("cpu" if "cpu" in spec.devices else "gpu")


class Dispatcher:
    """Publishes ``run_job`` tasks carrying only the job id."""

    def __init__(self, celery: Celery) -> None:
        self._celery = celery

    def dispatch(self, job_id: str, *, queue: str) -> None:
        self._celery.send_task(RUN_JOB_TASK, args=[job_id], queue=queue)


def private_queue(worker_name: str) -> str:
    """The queue only the worker ``worker_name`` consumes (for engine affinity)."""
    return f"vv.worker.{worker_name}"


def device_class(device: str) -> str:
    """``cpu`` for the CPU, ``gpu`` for ``cuda:N``."""
    return "cpu" if device == "cpu" else "gpu"
