"""Runs one job attempt: claim, run the pipeline, record the outcome. Never raises.

A failure of the job is the job's outcome, not the worker's: every exception
ends as a terminal state with a typed error, so no job is left ``running`` by a
live worker and the worker goes on to the next one.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from visiovox.jobs.model import Job, JobError, JobStatus, Progress
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.store import ClaimOutcome
from visiovox.models.engine_pool import EnginePool
from visiovox.pipelines.errors import JobCanceled, PipelineError
from visiovox.pipelines.registry import UnknownPipeline, get_spec
from visiovox.worker.context import JobContext
from visiovox.worker.state import WorkerStatus

log = logging.getLogger(__name__)


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
    ) -> None:
        self._domain = domain
        self._pool = pool
        self._status = status
        self._progress_max_hz = progress_max_hz
        self._cancel_poll_s = cancel_poll_s

    def run(self, job_id: str) -> None:
        """Run ``job_id`` unless another worker holds it or it is finished."""
        name = self._status.name
        claim = self._domain.store.claim(job_id, name)
        if claim.outcome is not ClaimOutcome.CLAIMED:
            log.info("job %s not run: %s", job_id, claim.outcome.value)
            return
        job = self._domain.store.get(job_id)
        if job is None:
            return
        self._status.job_started(job_id)
        try:
            self._run_claimed(job)
        finally:
            self._status.job_finished()

    def _run_claimed(self, job: Job) -> None:
        ctx = JobContext(
            job=job,
            domain=self._domain,
            pool=self._pool,
            device=self._status.device,
            progress_max_hz=self._progress_max_hz,
            cancel_poll_s=self._cancel_poll_s,
        )
        status = JobStatus.SUCCEEDED
        error: JobError | None = None
        result: dict[str, Any] | None = None
        try:
            spec = get_spec(job.pipeline)
            params = spec.params.model_validate(job.params)
            try:
                returned = spec.run(ctx, params)
            finally:
                ctx.release_engines()
            result = dict(returned) if returned is not None else None
        except JobCanceled:
            status = JobStatus.CANCELED
        except PipelineError as exc:
            status, error = JobStatus.FAILED, JobError(code=exc.code, message=exc.message)
        except (UnknownPipeline, ValidationError) as exc:
            status, error = JobStatus.FAILED, JobError(code="invalid_job", message=str(exc))
        except Exception as exc:
            log.exception("job %s failed", job.id)
            status = JobStatus.FAILED
            error = JobError(code="internal_error", message=f"{type(exc).__name__}: {exc}")
        progress = Progress(percent=100.0, stage="done") if status is JobStatus.SUCCEEDED else None
        finished = self._domain.store.finish(
            job.id,
            worker=self._status.name,
            status=status,
            outputs=ctx.outputs,
            result=result,
            error=error,
            progress=progress,
        )
        if not finished:
            log.warning("job %s: lease lost before finishing; its outcome was dropped", job.id)
