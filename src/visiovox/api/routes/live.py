"""``WS /v1/live/assistant``: a spoken conversation over one WebSocket, turn by turn.

Query: ``session_id`` (an assistant session of the caller; empty: a new one),
``api_key`` when auth is on. The server first sends ``{"type": "session", ...}``.
The client streams its utterance as binary frames of 16 kHz mono 16-bit
little-endian PCM and ends it with ``{"type": "end_turn"}`` (or sends
``{"type": "text", "text": "..."}``). Each turn runs as an ``assistant`` job;
the server relays ``{"type": "processing", "stage"}`` as each stage starts,
``{"type": "token", "text"}`` as the model writes, each
spoken sentence as ``{"type": "audio", "name"}`` followed by one binary frame
of WAV, and ends the turn with ``{"type": "done", "transcription", "text",
"timings", "job_id"}`` or ``{"type": "error", "code", "message"}``.
``{"type": "ping"}`` answers ``{"type": "pong"}``; ``{"type": "end_session"}``
deletes the session and closes the socket (1000). Failures
before the session starts close with 4401 (bad key) or 4404 (no such session).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import uuid
import wave
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from visiovox.api import job_runs
from visiovox.api.deps import Gateway, get_gateway
from visiovox.api.errors import ApiError
from visiovox.api.security import authenticate
from visiovox.api.sessions import Session
from visiovox.api.turns import find_session, record, session_store, submit_turn
from visiovox.jobs.model import EventType, InputFile

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/live", tags=["live"])

PCM_RATE = 16_000
AUDIO_FIELD = "audio"


async def _store_utterance(gateway: Gateway, job_id: str, pcm: bytes) -> InputFile:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(PCM_RATE)
        wav.writeframes(pcm)
    path = anyio.Path(gateway.domain.files.input_path(job_id, AUDIO_FIELD))
    await path.parent.mkdir(parents=True, exist_ok=True)
    await path.write_bytes(buffer.getvalue())
    return InputFile(
        field=AUDIO_FIELD,
        name=AUDIO_FIELD,
        content_type="audio/wav",
        size=len(buffer.getvalue()),
        duration_s=len(pcm) / 2 / PCM_RATE,
    )


async def _turn(
    websocket: WebSocket,
    gateway: Gateway,
    session: Session,
    *,
    pcm: bytes | None = None,
    text: str | None = None,
) -> None:
    """Run one turn and relay its tokens, sentence audio and outcome."""
    job_id = uuid.uuid4().hex
    inputs = [await _store_utterance(gateway, job_id, pcm)] if pcm else []
    params: dict[str, Any] = {"text": text} if text else {}
    job = await submit_turn(gateway, session, params=params, inputs=inputs, job_id=job_id)
    files = gateway.domain.files
    async for event in job_runs.events(gateway, job):
        if event.type is EventType.STAGE:
            await websocket.send_json({"type": "processing", "stage": event.data["stage"]})
        elif event.type is EventType.LOG and "token" in event.data:
            await websocket.send_json({"type": "token", "text": event.data["token"]})
        elif event.type is EventType.OUTPUT and event.data["name"].startswith("sentence-"):
            name = event.data["name"]
            await websocket.send_json({"type": "audio", "name": name})
            await websocket.send_bytes(
                await anyio.Path(files.output_path(job.id, name)).read_bytes()
            )
    done = await job_runs.outcome(gateway, job)
    await record(gateway, session, done)
    result = done.result or {}
    await websocket.send_json(
        {
            "type": "done",
            "job_id": done.id,
            "transcription": result.get("transcription"),
            "text": result.get("text"),
            "timings": result.get("timings"),
        }
    )


async def _converse(websocket: WebSocket, gateway: Gateway, session: Session) -> None:
    limit = gateway.settings.uploads.max_bytes
    pcm = bytearray()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("bytes") is not None:
            pcm.extend(message["bytes"])
            if len(pcm) > limit:
                raise ApiError(413, "too_large", f"an utterance is over {limit} bytes")
            continue
        try:
            command = json.loads(message.get("text") or "")
        except ValueError:
            command = {}
        kind = command.get("type") if isinstance(command, dict) else None
        if kind == "ping":
            await websocket.send_json({"type": "pong"})
            continue
        if kind == "end_session":
            await session_store(gateway).delete(session)
            await websocket.close(code=1000, reason="session_ended")
            return
        try:
            if kind == "end_turn" and pcm:
                await _turn(websocket, gateway, session, pcm=bytes(pcm))
            elif kind == "text" and str(command.get("text", "")).strip():
                await _turn(websocket, gateway, session, text=str(command["text"]))
            else:
                raise ApiError(400, "invalid_message", "send audio then end_turn, or a text")
        except ApiError as exc:
            await websocket.send_json({"type": "error", "code": exc.code, "message": exc.message})
        pcm.clear()
        refreshed = await session_store(gateway).get(session.id, session.owner)
        session = refreshed or session


@router.websocket("/assistant")
async def live_assistant(websocket: WebSocket, session_id: str | None = None) -> None:
    """A spoken conversation: PCM in, tokens and sentence WAVs out, one turn at a time."""
    gateway = await get_gateway(websocket)
    await websocket.accept()
    try:
        caller = await authenticate(websocket, gateway, allow_query=True)
        if session_id:
            session = await find_session(gateway, session_id, caller.owner)
        else:
            session = await session_store(gateway).create(owner=caller.owner)
        await websocket.send_json({"type": "session", "session_id": session.id})
        await _converse(websocket, gateway, session)
    except ApiError as exc:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=4000 + exc.status, reason=exc.code)
    except WebSocketDisconnect:
        return
