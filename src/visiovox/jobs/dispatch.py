"""Sends jobs to the workers: picks a queue and pushes ``run_job(job_id)`` onto it."""

from __future__ import annotations

import redis

from visiovox.jobs.task_message import RUN_JOB_TASK, run_job_message
from visiovox.pipelines.spec import PipelineSpec

__all__ = [
    "RUN_JOB_TASK",
    "Dispatcher",
    "choose_queue",
    "device_class",
    "private_queue",
    "shared_queue",
]


def shared_queue(device_class: str) -> str:
    """The queue every worker of a device class (``cpu``, ``gpu``) consumes."""
    return f"vv.{device_class}"


def private_queue(worker_name: str) -> str:
    """The queue only the worker ``worker_name`` consumes (for engine affinity)."""
    return f"vv.worker.{worker_name}"


def device_class(device: str) -> str:
    """``cpu`` for the CPU, ``gpu`` for ``cuda:N``."""
    return "cpu" if device == "cpu" else "gpu"


def choose_queue(spec: PipelineSpec) -> str:
    """The queue for a job of ``spec``: the CPU queue when the pipeline can run there."""
    return shared_queue("cpu" if "cpu" in spec.devices else "gpu")


class Dispatcher:
    """Pushes ``run_job`` messages (carrying only the job id) onto Celery queues in Redis."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def message(self, job_id: str, *, queue: str) -> str:
        """The message to push onto ``queue`` (``JobStore.create`` pushes it with the job)."""
        return run_job_message(job_id, queue=queue)

    def dispatch(self, job_id: str, *, queue: str) -> None:
        """Push the message now."""
        self._redis.lpush(queue, run_job_message(job_id, queue=queue))
