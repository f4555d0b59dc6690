"""Running a job on the workers for a synchronous answer: submit, follow, collect.

The OpenAI-compatible facades (``/v1/chat/completions``, ``/v1/audio/*``) are
ordinary jobs: they go through the scheduler and the queue caps, run on a
worker, and the gateway follows the job's event stream (the NoticeHub, as SSE
clients do) until the terminal event. A client that hangs up cancels its job.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

import anyio

from visiovox.api.deps import Gateway
from visiovox.api.errors import ApiError
from visiovox.api.routes.jobs import create_job, lookup_spec, route_job, validate_params
from visiovox.jobs.model import InputFile, Job, JobEvent, JobStatus
from visiovox.jobs.queues import Priority
from visiovox.jobs.reader import JobReader

# A failed job's error codes answer 422 (the caller's input), except the worker's
# own failures (500; 503 when it ran out of memory and recycles itself) and an
# upstream server's (the llm.openai_http engine's): 502, or 504 when it timed out.
CLIENT_ERROR_STATUS = 422
FAILURE_STATUS = {
    "internal_error": 500,
    "worker_lost": 500,
    "resource_exhausted": 503,
    "llm_unreachable": 502,
    "llm_unauthorized": 502,
    "llm_model_not_found": 502,
    "llm_server_error": 502,
    "llm_timeout": 504,
}


async def submit(
    gateway: Gateway,
    *,
    pipeline: str,
    owner: str,
    params: dict[str, Any],
    inputs: Sequence[InputFile] = (),
    job_id: str | None = None,
) -> Job:
    """Create and enqueue a job of ``pipeline`` (params checked as ``POST /v1/jobs`` does)."""
    spec = lookup_spec(pipeline)
    route = await route_job(gateway, spec)
    job = Job(
        id=job_id or uuid.uuid4().hex,
        pipeline=spec.name,
        owner=owner,
        params=validate_params(spec, params),
        inputs=list(inputs),
        priority=Priority.HIGH,
    )
    created, _ = await create_job(
        gateway, job=job, route=replace(route, priority=job.priority), idempotency_key=None
    )
    return created


async def events(gateway: Gateway, job: Job) -> AsyncIterator[JobEvent]:
    """Every event of ``job`` from the start to the terminal one; cancels it if abandoned."""
    finished = False
    try:
        batches = gateway.feed.follow(
            job=job, after="0", keepalive_s=gateway.settings.gateway.sse_keepalive_s
        )
        async with contextlib.aclosing(batches):
            async for batch in batches:
                for event in batch:
                    finished = finished or event.type.is_terminal
                    yield event
    finally:
        if not finished:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(gateway.domain.store.request_cancel, job.id)


async def finished(gateway: Gateway, job: Job) -> Job:
    """The job's record once it is terminal; raises its failure as an ``ApiError``."""
    async for _event in events(gateway, job):
        pass
    return await outcome(gateway, job)


async def outcome(gateway: Gateway, job: Job) -> Job:
    """The terminal record of ``job``; a failed or canceled job raises ``ApiError``."""
    reader = JobReader(gateway.aredis, keys=gateway.domain.keys)
    done = await reader.get_for_owner(job.id, job.owner)
    if done is None:
        raise ApiError(500, "job_lost", f"job {job.id} vanished")
    if done.status is JobStatus.SUCCEEDED:
        return done
    if done.status is JobStatus.CANCELED:
        raise ApiError(409, "job_canceled", f"job {job.id} was canceled")
    error = done.error
    code = error.code if error else "job_failed"
    message = error.message if error else f"job {job.id} failed"
    raise ApiError(FAILURE_STATUS.get(code, CLIENT_ERROR_STATUS), code, message)
