"""Following a job to its end for a synchronous answer: its events, its outcome, its cancel.

The OpenAI-compatible facades (``/v1/chat/completions``, ``/v1/audio/*``),
assistant turns with ``wait`` and live sessions submit ordinary jobs
(``api/submission.py``) and then wait here: the gateway follows the job's
event stream (the notice hub, as SSE clients do) until the terminal event.
A client that hangs up cancels its job. A failed job answers with its error
code: 422 for the caller's input, the worker's own failures 500 (503 when it
ran out of memory and recycles itself), an upstream LLM server's 502 or 504,
and 400 for a conversation over the model's context window, as OpenAI answers it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

import anyio

from visiovox.api.errors import ApiError
from visiovox.api.event_feed import EventFeed
from visiovox.jobs.model import Job, JobEvent, JobStatus
from visiovox.jobs.reader import JobReader
from visiovox.jobs.store import JobStore

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
    "context_length_exceeded": 400,
}


class JobFollower:
    """Waits for the gateway's jobs to end, and cancels those nobody waits for any more."""

    def __init__(
        self, *, feed: EventFeed, reader: JobReader, store: JobStore, keepalive_s: float
    ) -> None:
        self._feed = feed
        self._reader = reader
        self._store = store
        self._keepalive_s = keepalive_s

    async def events(self, job: Job) -> AsyncGenerator[JobEvent, None]:
        """Every event of ``job`` from the start to the terminal one; cancels it if abandoned."""
        finished = False
        try:
            batches = self._feed.follow(job=job, after="0", keepalive_s=self._keepalive_s)
            async with contextlib.aclosing(batches):
                async for batch in batches:
                    for event in batch:
                        finished = finished or event.type.is_terminal
                        yield event
        finally:
            if not finished:
                await self.cancel(job)

    async def finished(self, job: Job) -> Job:
        """The job's record once it is terminal; raises its failure as an ``ApiError``."""
        async for _event in self.events(job):
            pass
        return await self.outcome(job)

    async def outcome(self, job: Job) -> Job:
        """The terminal record of ``job``; a failed or canceled job raises ``ApiError``."""
        done = await self._reader.get_for_owner(job.id, job.owner)
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

    async def ended(self, job: Job) -> bool:
        """Whether ``job`` is terminal now (or gone)."""
        current = await self._reader.get_for_owner(job.id, job.owner)
        return current is None or current.status.is_terminal

    async def cancel(self, job: Job) -> None:
        """Cancel ``job`` (nothing when it already ended); runs even while being cancelled."""
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self._store.request_cancel, job.id)
