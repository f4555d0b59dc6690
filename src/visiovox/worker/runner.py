"""Runs one job attempt: claim, run the pipeline, record the outcome. Never raises.

A failure of the job is the job's outcome, not the worker's: every exception
ends as a terminal state with a typed error, so no job is left ``running`` by a
live worker and the worker goes on to the next one. The one exception is
memory: a job that grew the process has its garbage handed back to the system
once it is recorded, and a worker left over its memory ceiling (or whose job
hit it) asks to be recycled (``on_recycle``) instead of taking another job.

A Redis outage is no failure of the job either: the runner waits for Redis to
answer (``worker/redis_outage.py``), then records the outcome or, when the
outage cut the attempt short, hands the job back for another attempt.

A job whose owner runs its cap of jobs is not run (its claim holds it,
``jobs/quotas.py``); once a job of such an owner is recorded, the runner
dispatches the owner's held jobs that may run now.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from visiovox.engines.pool import EnginePool
from visiovox.errors import JobCanceled
from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.janitor import dispatch_held, fallback_queue
from visiovox.jobs.model import Job, JobError, JobStatus, OutputFile, Progress
from visiovox.jobs.queues import DeviceClass, Route, shared_queue
from visiovox.jobs.quotas import Quotas
from visiovox.jobs.records import ClaimOutcome
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.scheduler import NoCapableWorker, place
from visiovox.jobs.segments import FanOut, SegmentsPlanned
from visiovox.jobs.storage import JobWorkspace
from visiovox.jobs.workers import WorkerRegistry
from visiovox.pipelines.registry import get_spec, resolve_run
from visiovox.worker.context import JobContext
from visiovox.worker.cpu_priority import CpuPriority
from visiovox.worker.failures import STORAGE_FULL, job_error
from visiovox.worker.live_link import LiveLinkFactory
from visiovox.worker.memory import MIB, MemoryCeiling, release_memory, rss_bytes
from visiovox.worker.redis_outage import OUTAGE_ERRORS, until_redis_answers
from visiovox.worker.segment_work import RedisSegmentWork
from visiovox.worker.state import WorkerStatus

log = logging.getLogger(__name__)

# A job that left the process this much larger has its freed memory handed back.
RELEASE_AFTER_GROWTH_BYTES = 32 * MIB


class JobObserver(Protocol):
    """What the worker's metrics record of each finished attempt."""

    def observe_job(
        self, *, pipeline: str, status: str, seconds: float, stages: list[tuple[str, float]]
    ) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended, before it is recorded."""

    status: JobStatus
    outputs: list[OutputFile]
    result: dict[str, Any] | None = None
    error: JobError | None = None
    # Redis went away under the attempt: handed back, not recorded.
    interrupted: bool = False
    # The job was split into segment jobs and waits for them (``jobs/segments.py``).
    waiting: bool = False


class JobRunner:
    """Claims and runs jobs on this worker."""

    def __init__(
        self,
        *,
        domain: JobDomain,
        pool: EnginePool,
        status: WorkerStatus,
        progress_max_hz: float,
        cancel_poll_s: float,
        announce: Callable[[], None] | None = None,
        observer: JobObserver | None = None,
        live_links: LiveLinkFactory | None = None,
        cpu_priority: CpuPriority | None = None,
        memory: MemoryCeiling | None = None,
        on_recycle: Callable[[], None] | None = None,
        workers: WorkerRegistry | None = None,
    ) -> None:
        self._domain = domain
        self._workers = workers
        self._fan_out = FanOut(
            domain.redis,
            keys=domain.keys,
            events=domain.events,
            retention_s=domain.store.retention_s,
        )
        self._memory = memory
        self._on_recycle = on_recycle or (lambda: None)
        self._pool = pool
        self._status = status
        self._progress_max_hz = progress_max_hz
        self._cancel_poll_s = cancel_poll_s
        self._announce = announce or (lambda: None)
        self._observer = observer
        self._live_links = live_links
        self._cpu_priority = cpu_priority or CpuPriority(0)
        self._quotas = Quotas(domain.redis, keys=domain.keys)
        self._dispatcher = Dispatcher(domain.redis)

    def run(self, job_id: str) -> None:
        """Run ``job_id`` unless another worker holds it or it is finished."""
        name = self._status.name
        store = self._domain.store
        # Waits out a Redis outage: a delivered message whose claim failed would
        # leave its job queued with no message left to run it.
        claim = until_redis_answers(lambda: store.claim(job_id, name), what=f"claiming {job_id}")
        if claim.outcome is not ClaimOutcome.CLAIMED:
            log.info("job %s not run: %s", job_id, claim.outcome.value)
            return
        job = until_redis_answers(lambda: store.get(job_id), what=f"reading {job_id}")
        if job is None:
            return
        self._status.job_started(job_id, job.pipeline)
        self._announce_safely()
        rss_before = rss_bytes()
        outcome: Outcome | None = None
        try:
            outcome = self._run_claimed(job)
        finally:
            # Ready again before the job turns terminal: whoever sees it finish also
            # finds this worker ready for the next placement.
            self._status.job_finished()
            self._announce_safely()
        self._record(job, outcome)
        if job.max_running:
            self._dispatch_held(job.owner)
        self._after_job(job_id, rss_before=rss_before)

    def _dispatch_held(self, owner: str) -> None:
        """Dispatch the owner's held jobs; if Redis fails, the janitor finds them later."""
        try:
            dispatch_held(
                self._domain, quotas=self._quotas, dispatcher=self._dispatcher, owner=owner
            )
        except OUTAGE_ERRORS as exc:
            log.warning("could not dispatch the held jobs of %s: %s", owner, exc)

    def _after_job(self, job_id: str, *, rss_before: int) -> None:
        """Hand back what a big job freed; recycle the worker if it is still too large."""
        if rss_bytes() - rss_before > RELEASE_AFTER_GROWTH_BYTES:
            release_memory()
        memory = self._memory
        if memory is None or not (memory.tripped or memory.over()):
            return
        log.warning(
            "worker %s recycles after job %s: %d MiB resident, ceiling %d MiB (worker.max_rss_mb)",
            self._status.name,
            job_id,
            rss_bytes() // MIB,
            memory.limit_bytes // MIB,
        )
        self._on_recycle()

    def _announce_safely(self) -> None:
        try:
            self._announce()
        except Exception as exc:  # the heartbeat thread publishes it on its next beat
            log.warning("could not publish the worker state: %s", exc)

    def _run_claimed(self, job: Job) -> Outcome:
        """Run the job on local paths: its folder, or a scratch copy of a remote backend's."""
        segment_work = self._segment_work(job)
        try:
            with self._domain.files.workspace(job.id) as workspace:
                return self._run_in(job, workspace, segment_work)
        finally:
            segment_work.close()

    def _run_in(self, job: Job, workspace: JobWorkspace, segment_work: RedisSegmentWork) -> Outcome:
        ctx = JobContext(
            job=job,
            workspace=workspace,
            settings=self._pool.settings,
            domain=self._domain,
            pool=self._pool,
            device=self._status.device,
            progress_max_hz=self._progress_max_hz,
            cancel_poll_s=self._cancel_poll_s,
            live_links=self._live_links,
            on_live_figures=self._status.live_figures,
            memory=self._memory,
            segment_work=segment_work,
        )
        started = time.perf_counter()
        status = JobStatus.SUCCEEDED
        error: JobError | None = None
        result: dict[str, Any] | None = None
        try:
            spec = get_spec(job.pipeline)
            params = spec.params.model_validate(job.params)
            run = resolve_run(spec)
            try:
                with self._cpu_priority.held(spec.latency_bound):
                    returned = run(ctx, params)
            finally:
                ctx.release_engines()
            result = dict(returned) if returned is not None else None
        except JobCanceled:
            status = JobStatus.CANCELED
        except SegmentsPlanned:
            # Its segments are queued and its lease given up: nothing to record now.
            return Outcome(status=JobStatus.RUNNING, outputs=[], waiting=True)
        except OUTAGE_ERRORS as exc:
            # Not the job's failure: ``_record`` hands it back for another attempt.
            log.warning("job %s interrupted: Redis unreachable (%s)", job.id, exc)
            return Outcome(status=JobStatus.FAILED, outputs=[], interrupted=True)
        except Exception as exc:
            # Pipeline, media and model errors end the job with their own code (failures.py).
            status, error = JobStatus.FAILED, job_error(exc)
            self._log_failure(job.id, exc, error)
        if self._observer is not None:
            self._observer.observe_job(
                pipeline=job.pipeline,
                status=status.value,
                seconds=time.perf_counter() - started,
                stages=ctx.stage_times(),
            )
        outputs = ctx.outputs
        if error is not None and error.code == STORAGE_FULL.code:
            # A partial output is of no use and holds the space the disk lacks.
            self._domain.files.delete_outputs(job.id)
            outputs = []
        return Outcome(status=status, outputs=outputs, result=result, error=error)

    def _segment_work(self, job: Job) -> RedisSegmentWork:
        return RedisSegmentWork(
            job=job,
            domain=self._domain,
            worker=self._status.name,
            fan_out=self._fan_out,
            place=lambda: self._segment_route(job),
            fleet_size=lambda: self._fleet_size(job),
            report_interval_s=1.0 / self._progress_max_hz if self._progress_max_hz > 0 else 0.0,
        )

    def _fleet_size(self, job: Job) -> int:
        """Live workers taking jobs of the device class ``job``'s segments go to."""
        if self._workers is None:
            return 1
        device_class = self._segment_route(job).device_class
        workers = self._workers.live()
        return sum(1 for w in workers if w.state.takes_jobs and w.device_class == device_class)

    def _segment_route(self, job: Job) -> Route:
        """Where ``job``'s segments go: the scheduler's device class, its shared queue."""
        prefix = self._domain.keys.prefix
        workers = self._workers.live() if self._workers is not None else []
        try:
            route = place(get_spec(job.pipeline).needs, workers, prefix=prefix)
        except NoCapableWorker:
            queue = fallback_queue(job, prefix=prefix)
            device = DeviceClass(job.device_class or DeviceClass.CPU)
            return Route(device_class=device, queue=queue, priority=job.priority, prefix=prefix)
        queue = shared_queue(route.device_class, prefix=prefix)
        return Route(
            device_class=route.device_class, queue=queue, priority=job.priority, prefix=prefix
        )

    @staticmethod
    def _log_failure(job_id: str, exc: Exception, error: JobError) -> None:
        """The full text for the operator (the job's error has no paths)."""
        if error.code == STORAGE_FULL.code:
            log.error("job %s: the disk under the storage root is full (%s)", job_id, exc)
        elif error.code == "internal_error":
            log.exception("job %s failed", job_id, exc_info=exc)

    def _record(self, job: Job, outcome: Outcome | None) -> None:
        if outcome is None:
            return
        store, worker = self._domain.store, self._status.name
        if outcome.waiting:
            return
        if outcome.interrupted:
            # Once Redis is back the janitor re-dispatches it at once (no lease to wait out).
            until_redis_answers(lambda: store.release_lease(job.id, worker), what="handing back")
            return
        succeeded = outcome.status is JobStatus.SUCCEEDED
        finished = until_redis_answers(
            lambda: store.finish(
                job.id,
                worker=worker,
                status=outcome.status,
                outputs=outcome.outputs,
                result=outcome.result,
                error=outcome.error,
                progress=Progress(percent=100.0, stage="done") if succeeded else None,
            ),
            what=f"recording the outcome of {job.id}",
        )
        if not finished and not self._recorded(job.id, outcome.status):
            log.warning("job %s: lease lost before finishing; its outcome was dropped", job.id)

    def _recorded(self, job_id: str, status: JobStatus) -> bool:
        """Whether the record already holds ``status`` from this worker.

        It does when a retried finish ran the first time but a Redis restart
        swallowed the reply.
        """
        job = until_redis_answers(lambda: self._domain.store.get(job_id), what=f"reading {job_id}")
        return job is not None and (job.status, job.worker) == (status, self._status.name)
