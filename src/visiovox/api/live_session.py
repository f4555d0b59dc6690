"""A live session's WebSocket, relayed both ways between the client and the session's job.

Both live routes (``routes/live.py``) take ``start_session`` with
``start_message``, then hand the socket to ``relay_session``: the client's
messages go into the job's input stream (``LiveRelay``; ping answered here, a
binary message over the size cap refused here), the worker's output stream
goes to the client, and while it is quiet the job is looked at each second,
so a job that ended (a dead worker's session fails ``worker_lost``) is told to
the client and closes the socket. Either side ending ends both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect

from visiovox.api.errors import ApiError
from visiovox.api.job_follow import JobFollower
from visiovox.api.json_body import parse_json
from visiovox.api.live_relay import LiveRelay
from visiovox.jobs.live_streams import EntryKind, FrameNumbers, LiveEntry
from visiovox.jobs.model import Job

# How long a client may take to send start_session after connecting.
START_TIMEOUT_S = 30.0
# Longest wait for the worker's output before checking the job is still alive.
PULL_BLOCK_MS = 1_000


async def start_message(websocket: WebSocket) -> dict[str, Any]:
    with anyio.move_on_after(START_TIMEOUT_S):
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        with contextlib.suppress(ValueError):
            command = parse_json(message.get("text") or "")
            if isinstance(command, dict) and command.get("type") == "start_session":
                return command
    raise ApiError(400, "start_session_expected", 'send {"type": "start_session"} first')


class ClientSocket:
    """Serialises sends: the two relay directions both write to the client."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self._lock = anyio.Lock()

    async def send(self, entry: LiveEntry) -> None:
        async with self._lock:
            if entry.kind is not EntryKind.MESSAGE:
                await self.websocket.send_bytes(entry.data)
            else:
                await self.websocket.send_text(entry.data.decode())

    async def send_json(self, payload: dict[str, Any]) -> None:
        await self.send(LiveEntry.message(payload))

    async def close(self, code: int, reason: str = "") -> None:
        async with self._lock:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await self.websocket.close(code=code, reason=reason)


def _command_problem(command: Any) -> str | None:
    """What is wrong with a client's command, before it is relayed (the worker answers
    an unknown ``type``); None when nothing is."""
    if not isinstance(command, dict):
        return "send a JSON object"
    if command.get("type") == "text" and not isinstance(command.get("text", ""), str):
        return "text: must be a string"
    return None


async def _inbound(
    socket: ClientSocket,
    relay: LiveRelay,
    *,
    limit: int,
    on_end: Callable[[], Awaitable[None]] | None = None,
    numbers: FrameNumbers | None = None,
) -> None:
    """Client → input stream; ping is answered here, end_session (after ``on_end``) is
    relayed to the worker, which ends the session. With ``numbers``, every entry is
    stamped with the client's frame count (a binary message over ``limit`` is counted
    too, then refused here: the worker lists its seq as dropped)."""
    stamp = numbers.stamp if numbers is not None else (lambda entry: entry)
    while True:
        message = await socket.websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("bytes")
        if data is not None:
            entry = stamp(LiveEntry.audio(data))
            if len(data) > limit:
                await socket.send_json(
                    {"type": "error", "code": "too_large", "message": f"over {limit} bytes"}
                )
            else:
                await relay.push(entry)
            continue
        try:
            command = parse_json(message.get("text") or "")
        except ValueError:
            command = None
        problem = _command_problem(command)
        if problem is not None:
            await socket.send_json({"type": "error", "code": "invalid_message", "message": problem})
            continue
        assert isinstance(command, dict)
        if command.get("type") == "ping":
            await socket.send_json({"type": "pong"})
            continue
        if command.get("type") == "end_session" and on_end is not None:
            await on_end()
        await relay.push(stamp(LiveEntry.message(command)))


async def _outbound(
    socket: ClientSocket,
    relay: LiveRelay,
    follower: JobFollower,
    job: Job,
    *,
    refusals: frozenset[str] = frozenset(),
) -> None:
    """Output stream → client, until the worker ends the session or the job ends; a job
    failed with one of ``refusals`` closes 4422 (the request cannot be served), others 1011."""
    while True:
        entries = await relay.pull(block_ms=PULL_BLOCK_MS)
        for entry in entries:
            kind = entry.payload().get("type") if entry.kind is EntryKind.MESSAGE else None
            if kind in ("complete", "stats"):  # what the output stream's cap lost, so far
                await socket.send_json({**entry.payload(), "dropped_out": relay.dropped})
            else:
                await socket.send(entry)
            if kind == "session_ended":
                await socket.close(1000, "session_ended")
                return
        if entries:
            continue
        if await follower.ended(job):
            try:
                await follower.outcome(job)
                await socket.close(1000, "session_ended")
            except ApiError as exc:
                await socket.send_json({"type": "error", "code": exc.code, "message": exc.message})
                await socket.close(4422 if exc.code in refusals else 1011, exc.code)
            return


async def relay_session(
    socket: ClientSocket,
    relay: LiveRelay,
    follower: JobFollower,
    job: Job,
    *,
    limit: int,
    on_end: Callable[[], Awaitable[None]] | None = None,
    refusals: frozenset[str] = frozenset(),
    numbers: FrameNumbers | None = None,
) -> None:
    """Relay a session both ways until either side ends, then stop following its job and
    close its streams (``on_end``, ``numbers``, ``refusals``: as ``_inbound``,
    ``_outbound``)."""
    try:
        await _both_ways(
            lambda: _inbound(socket, relay, limit=limit, on_end=on_end, numbers=numbers),
            lambda: _outbound(socket, relay, follower, job, refusals=refusals),
        )
    finally:
        with anyio.CancelScope(shield=True):
            await follower.cancel(job)
            await relay.close()


async def _both_ways(*directions: Callable[[], Awaitable[None]]) -> None:
    """Run the relay's directions until either ends."""
    async with anyio.create_task_group() as group:

        async def one_way(direction: Callable[[], Awaitable[None]]) -> None:
            try:
                await direction()
            finally:
                group.cancel_scope.cancel()  # either side ending ends the session

        for direction in directions:
            group.start_soon(one_way, direction)
