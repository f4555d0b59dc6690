"""A job's events live: Server-Sent Events and WebSocket, both resumable by event id.

SSE frames are ``id: <stream id>``, ``event: <type>``, ``data: <event JSON>``;
a comment line keeps idle connections open. WebSocket messages are the same
JSON as text. Both end after the terminal event (WebSocket with code 1000).
WebSocket failures close with 4401 (bad key), 4404 (no such job), 4400 (bad
``after``), 1013 (Redis unreachable or busy; reconnect with ``after``) or 1011
(a server bug). A stream that breaks after it started ends with the error in
the API's error shape: an SSE ``event: error`` frame (no ``id``, so
``Last-Event-ID`` stays the last event received), or a last WebSocket message
``{"error": {...}}`` before the close.

Followers hold no Redis connection while they wait (see ``api/event_feed.py``).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, WebSocket
from fastapi.responses import StreamingResponse
from starlette.websockets import WebSocketDisconnect, WebSocketState

from visiovox.api.deps import AuthDep, CallerDep, FeedDep, ReaderDep, SettingsDep
from visiovox.api.errors import REDIS_OUTAGES, ApiError, error_body, job_not_found, redis_error
from visiovox.api.event_feed import EventFeed, check_event_id
from visiovox.api.ids import JobIdDep, check_job_id
from visiovox.api.schemas import ErrorBody, EventOut
from visiovox.jobs.model import Job, JobEvent

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/jobs", tags=["events"])

# WebSocket close codes (RFC 6455): try again later, and an unexpected condition.
TRY_AGAIN_LATER = 1013
INTERNAL_ERROR = 1011
# The reconnection delay an SSE error frame suggests to EventSource, in ms.
SSE_RETRY_MS = 2_000


@dataclass(frozen=True)
class _Stream:
    """One connection's stream: the job, where it resumes, and the feed it follows."""

    job: Job
    after: str
    feed: EventFeed
    keepalive_s: float

    def follow(self) -> AsyncGenerator[list[JobEvent], None]:
        return self.feed.follow(job=self.job, after=self.after, keepalive_s=self.keepalive_s)


def _stream_error(job_id: str, exc: Exception) -> ApiError:
    """What a stream that broke tells its client; logged here, once."""
    if isinstance(exc, REDIS_OUTAGES):
        # The client reconnects with its last event id and misses nothing.
        log.warning("event stream of job %s ended: %s", job_id, exc)
        return redis_error(exc)
    log.error("event stream of job %s failed", job_id, exc_info=exc)
    return ApiError(500, "internal_error", "an unexpected error occurred")


def _sse_error(error: ApiError) -> str:
    data = json.dumps(error_body(error.code, error.message))
    return f"retry: {SSE_RETRY_MS}\nevent: error\ndata: {data}\n\n"


async def _sse(stream: _Stream) -> AsyncIterator[str]:
    try:
        async with contextlib.aclosing(stream.follow()) as batches:
            async for batch in batches:
                if not batch:
                    yield ": keep-alive\n\n"
                    continue
                yield "".join(
                    f"id: {event.id}\nevent: {event.type.value}\n"
                    f"data: {EventOut.from_event(event).model_dump_json()}\n\n"
                    for event in batch
                )
    except Exception as exc:  # the headers are sent: end with an error frame
        yield _sse_error(_stream_error(stream.job.id, exc))


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        **{code: {"model": ErrorBody} for code in (400, 401, 404, 503)},
    },
)
async def job_events(
    job_id: JobIdDep,
    caller: CallerDep,
    reader: ReaderDep,
    feed: FeedDep,
    settings: SettingsDep,
    last_event_id: Annotated[str | None, Header()] = None,
    after: str | None = None,
) -> StreamingResponse:
    """The job's events as SSE, from after ``Last-Event-ID`` (or ``?after=``), to the end."""
    start = check_event_id(last_event_id or after)
    job = await reader.get_for_owner(job_id, caller.owner)
    if job is None:
        raise job_not_found(job_id)
    stream = _Stream(job, start, feed, settings.gateway.sse_keepalive_s)
    return StreamingResponse(
        _sse(stream),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _send_events(websocket: WebSocket, stream: _Stream) -> None:
    async with contextlib.aclosing(stream.follow()) as batches:
        async for batch in batches:
            for event in batch:
                await websocket.send_text(EventOut.from_event(event).model_dump_json())


async def _pump(websocket: WebSocket, stream: _Stream) -> None:
    """Send every event until the terminal one; stops early when the client leaves.

    Errors of the sending side are raised as they are, never wrapped in the
    task group's ``ExceptionGroup``, so the handler can close with the right code.
    """
    failure: BaseException | None = None
    async with anyio.create_task_group() as group:

        async def until_disconnect() -> None:
            with contextlib.suppress(WebSocketDisconnect):
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        break
            group.cancel_scope.cancel()

        group.start_soon(until_disconnect)
        try:
            await _send_events(websocket, stream)
        except Exception as exc:  # re-raised below, outside the group
            failure = exc
        group.cancel_scope.cancel()
    if failure is not None:
        raise failure


async def _close(websocket: WebSocket, *, code: int, reason: str, error: ApiError | None) -> None:
    """Send ``error`` (if any) and close, unless the client already left."""
    connected = WebSocketState.CONNECTED
    if websocket.application_state is not connected or websocket.client_state is not connected:
        return
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        if error is not None:
            await websocket.send_text(json.dumps(error_body(error.code, error.message)))
        await websocket.close(code=code, reason=reason)


@router.websocket("/{job_id}/ws")
async def job_events_ws(
    websocket: WebSocket,
    job_id: str,
    auth: AuthDep,
    reader: ReaderDep,
    feed: FeedDep,
    settings: SettingsDep,
    after: str | None = None,
) -> None:
    """The job's events over WebSocket (JSON text messages), from after ``?after=``."""
    await websocket.accept()
    error: ApiError | None = None
    try:
        caller = await auth.caller(websocket, allow_query=True)
        start = check_event_id(after)
        job = await reader.get_for_owner(check_job_id(job_id), caller.owner)
        if job is None:
            raise job_not_found(job_id)
        await _pump(websocket, _Stream(job, start, feed, settings.gateway.sse_keepalive_s))
        code, reason = 1000, "done"
    except ApiError as exc:
        code, reason = 4000 + exc.status, exc.code
    except WebSocketDisconnect:
        return
    except Exception as exc:  # every other failure still closes properly
        error = _stream_error(job_id, exc)
        code = TRY_AGAIN_LATER if error.status == 503 else INTERNAL_ERROR
        reason = error.code
    await _close(websocket, code=code, reason=reason, error=error)
