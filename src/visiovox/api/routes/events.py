"""A job's events live: Server-Sent Events and WebSocket, both resumable by event id.

SSE frames are ``id: <stream id>``, ``event: <type>``, ``data: <event JSON>``;
a comment line keeps idle connections open. WebSocket messages are the same
JSON as text. Both end after the terminal event (WebSocket with code 1000).
WebSocket failures close with 4401 (bad key), 4404 (no such job), 4400 (bad
``after``) or 1013 (Redis unreachable; reconnect with ``after``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated

import anyio
import redis.exceptions
from fastapi import APIRouter, Header, WebSocket
from fastapi.responses import StreamingResponse
from starlette.websockets import WebSocketDisconnect, WebSocketState

from visiovox.api.deps import Gateway, GatewayDep, get_gateway
from visiovox.api.errors import ApiError
from visiovox.api.feed import AsyncJobReader, check_event_id, follow_events
from visiovox.api.routes.jobs import job_not_found
from visiovox.api.schemas import ErrorBody, EventOut
from visiovox.api.security import CallerDep, authenticate
from visiovox.jobs.model import Job, JobEvent

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/jobs", tags=["events"])

_REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def _reader(gateway: Gateway) -> AsyncJobReader:
    return AsyncJobReader(gateway.aredis, keys=gateway.domain.keys)


def _follow(gateway: Gateway, job: Job, after: str) -> AsyncGenerator[list[JobEvent], None]:
    return follow_events(
        hub=gateway.hub,
        reader=_reader(gateway),
        job=job,
        after=after,
        keepalive_s=gateway.settings.gateway.sse_keepalive_s,
    )


async def _sse(gateway: Gateway, job: Job, after: str) -> AsyncIterator[str]:
    try:
        async with contextlib.aclosing(_follow(gateway, job, after)) as batches:
            async for batch in batches:
                if not batch:
                    yield ": keep-alive\n\n"
                    continue
                yield "".join(
                    f"id: {event.id}\nevent: {event.type.value}\n"
                    f"data: {EventOut.from_event(event).model_dump_json()}\n\n"
                    for event in batch
                )
    except _REDIS_ERRORS as exc:
        # The client reconnects with Last-Event-ID and misses nothing.
        log.warning("event stream of job %s ended: Redis unavailable (%s)", job.id, exc)


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        **{code: {"model": ErrorBody} for code in (400, 401, 404, 503)},
    },
)
async def job_events(
    job_id: str,
    caller: CallerDep,
    gateway: GatewayDep,
    last_event_id: Annotated[str | None, Header()] = None,
    after: str | None = None,
) -> StreamingResponse:
    """The job's events as SSE, from after ``Last-Event-ID`` (or ``?after=``), to the end."""
    start = check_event_id(last_event_id or after)
    job = await _reader(gateway).get_for_owner(job_id, caller.owner)
    if job is None:
        raise job_not_found(job_id)
    return StreamingResponse(
        _sse(gateway, job, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _pump(websocket: WebSocket, gateway: Gateway, job: Job, after: str) -> None:
    """Send every event until the terminal one; stops early when the client leaves."""
    async with anyio.create_task_group() as group:

        async def until_disconnect() -> None:
            with contextlib.suppress(WebSocketDisconnect):
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        break
            group.cancel_scope.cancel()

        group.start_soon(until_disconnect)
        async with contextlib.aclosing(_follow(gateway, job, after)) as batches:
            async for batch in batches:
                for event in batch:
                    await websocket.send_text(EventOut.from_event(event).model_dump_json())
        group.cancel_scope.cancel()


@router.websocket("/{job_id}/ws")
async def job_events_ws(websocket: WebSocket, job_id: str, after: str | None = None) -> None:
    """The job's events over WebSocket (JSON text messages), from after ``?after=``."""
    gateway = await get_gateway(websocket)
    await websocket.accept()
    try:
        caller = await authenticate(websocket, gateway, allow_query=True)
        start = check_event_id(after)
        job = await _reader(gateway).get_for_owner(job_id, caller.owner)
        if job is None:
            raise job_not_found(job_id)
        await _pump(websocket, gateway, job, start)
        code, reason = 1000, "done"
    except ApiError as exc:
        code, reason = 4000 + exc.status, exc.code
    except _REDIS_ERRORS as exc:
        log.warning("websocket of job %s ended: Redis unavailable (%s)", job_id, exc)
        code, reason = 1013, "redis_unavailable"
    except WebSocketDisconnect:
        return
    connected = WebSocketState.CONNECTED
    if websocket.application_state is connected and websocket.client_state is connected:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=code, reason=reason)
