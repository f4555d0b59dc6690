"""Places each job: which device class, which queue, from the live workers' heartbeats.

The rules (issue 7):

1. Device class. A pipeline that can use a GPU goes to a GPU worker when one is
   registered; else to a CPU worker when the pipeline can run on the CPU; else
   no registered worker can run it and the submission fails at once
   (``NoCapableWorker``, answered 503 ``no_capable_worker``). Draining and
   defunct workers do not count: they take no new jobs. With no worker
   registered at all the fleet is starting or restarting (``/readyz`` is 503
   meanwhile), so the job is queued for the first worker to come: on the CPU
   queue when the pipeline allows it, else on the GPU queue.
2. Engine affinity. Among the class's idle (``ready``) workers, one that
   already has the job's engines loaded gets it on its private queue (most of
   the engines loaded wins, then fewest jobs done). ``JobStore.create``
   re-checks that the worker is still ready and its private queue empty in the
   same script that pushes the job, and falls back to the shared queue if not.
3. Otherwise the class's shared queue, which every worker of the class reads.

Queue names are the deployment's, under its ``redis.prefix`` (``prefix``).

``place`` is a pure function of the job's ``Needs`` (``jobs/placement.py``,
stated by its pipeline's spec) and the heartbeats: no I/O, a few microseconds
(``bench/scale.py`` measures it).
"""

from __future__ import annotations

from collections.abc import Sequence

from visiovox.jobs.placement import Needs
from visiovox.jobs.queues import (
    DEFAULT_PREFIX,
    DeviceClass,
    Priority,
    Route,
    private_queue,
    shared_queue,
)
from visiovox.jobs.workers import WorkerInfo, WorkerState


class NoCapableWorker(Exception):
    """No registered worker can run the pipeline."""

    def __init__(self, needs: Needs, registered: Sequence[str]) -> None:
        devices = " or ".join(sorted(needs.devices))
        have = ", ".join(sorted(set(registered))) or "none"
        super().__init__(
            f"no live worker can run {needs.pipeline!r}: it needs a {devices} worker "
            f"(registered worker devices: {have})"
        )
        self.pipeline = needs.pipeline


def choose_class(needs: Needs, workers: Sequence[WorkerInfo]) -> DeviceClass:
    """The device class a job with ``needs`` runs on, given the live workers (rule 1)."""
    classes = {w.device_class for w in workers if w.state.takes_jobs}
    if not classes:
        return DeviceClass.CPU if DeviceClass.CPU in needs.devices else DeviceClass.GPU
    for candidate in (DeviceClass.GPU, DeviceClass.CPU):
        if candidate in needs.devices and candidate in classes:
            return candidate
    raise NoCapableWorker(needs, [w.device for w in workers if w.state.takes_jobs])


def affine_worker(
    needs: Needs, workers: Sequence[WorkerInfo], device_class: DeviceClass
) -> WorkerInfo | None:
    """The idle worker of ``device_class`` with most of the job's engines loaded (rule 2)."""
    needed = needs.engines
    if not needed:
        return None
    best: WorkerInfo | None = None
    best_key = (0, 0)
    for worker in workers:
        if worker.state is not WorkerState.READY or worker.device_class != device_class:
            continue
        loaded = len(needed & worker.loaded_engines)
        key = (loaded, -worker.jobs_done)
        if loaded and (best is None or key > best_key):
            best, best_key = worker, key
    return best


def place(
    needs: Needs,
    workers: Sequence[WorkerInfo],
    *,
    prefix: str = DEFAULT_PREFIX,
    priority: Priority = Priority.NORMAL,
) -> Route:
    """Where a job with ``needs`` goes among the queues of ``prefix``; raises ``NoCapableWorker``.

    ``prefix`` is the deployment's ``redis.prefix``: the gateway passes its own.
    """
    device_class = choose_class(needs, workers)
    worker = affine_worker(needs, workers, device_class)
    if worker is not None:
        return Route(
            device_class=device_class,
            queue=private_queue(worker.name, prefix=prefix),
            priority=priority,
            worker=worker.name,
            prefix=prefix,
        )
    queue = shared_queue(device_class, prefix=prefix)
    return Route(device_class=device_class, queue=queue, priority=priority, prefix=prefix)
