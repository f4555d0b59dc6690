"""``WS /v1/live/assistant``, ``WS /v1/live/face-swap`` and ``WS /v1/live/voice``: sessions
hosted by a worker, relayed by the gateway (the face swap's and the voice's protocols are
on their routes, ``live_face_swap`` and ``live_voice``).

Protocol (``api_key`` in the query when auth is on):

1. The client sends ``{"type": "start_session"}``, optionally with
   ``session_id`` (resume one of its sessions; also accepted in the query),
   ``system_prompt``, ``voice`` and ``language`` (for a new session; voice and
   language also override a resumed one), and ``avatar`` (true: the reply
   also comes as a talking portrait's frames, see 6.) with its ``fps`` (5-30,
   default 25) and ``size`` (the frames' longer side, 128-1024, default 512),
   for this socket only. The server answers
   ``{"type": "session_started", "session_id", "job_id"}``; a worker then
   hosts the session (an ``assistant-live`` job) and sends ``{"type": "ready"}``.
2. The client streams binary PCM16 16 kHz mono chunks (e.g. 20 ms each), or
   sends a whole WAV file as one binary message (any rate; one turn).
   Silero VAD finds the end of each utterance: no end-of-turn message is
   needed (``{"type": "end_turn"}`` forces one; ``{"type": "text", "text"}``
   is a typed turn).
3. Per turn the server sends ``speech_started``, ``processing`` (``stage``:
   ``transcribe`` unless the transcription made at the first pause was
   reused, then ``generate``), ``transcription`` (``text``), ``response``
   deltas (``delta``) as the model writes, each sentence's audio as a binary
   WAV message as soon as it is synthesised, ``response`` (``text``,
   ``final``: true) and ``complete`` (``transcription``, ``text``, ``usage``,
   ``sentences``, ``audio_s``, ``speculative``, ``dropped``: client chunks the
   capped input stream lost, ``dropped_out``: worker messages the capped
   output stream lost before this gateway relayed them, ``timings``: stage
   seconds and ``first_token``, ``first_audio``, ``complete`` in seconds
   after the end of speech was detected). A failed turn sends
   ``{"type": "error", "code", "message"}``.
4. Barge-in: speech (or a new WAV or text) while a reply is being generated or
   played stops it: the server sends ``{"type": "interrupted"}``, no more of
   that reply, and answers the new utterance.
5. ``{"type": "ping"}`` → ``{"type": "pong"}``. ``{"type": "end_session"}``
   deletes the session and closes (1000). An idle session
   (``live.idle_timeout_s``) gets ``{"type": "session_ended"}`` and a 1000.
6. The avatar (``avatar``: true): every frame is ``{"type": "video_frame",
   "sentence", "index", "pts_ms"}`` followed by its JPEG as a binary message.
   Sentence S (counted over the session from 0, in the order of the WAVs)
   has frames 0..n-1 at ``fps`` covering its audio, ``pts_ms`` from the start
   of that audio; its first frames come just before its WAV and the rest
   ahead of their play time (at most 3 s ahead). Between replies the avatar
   idles (blinks, sways, mouth closed) at 5 frames a second: ``sentence`` and
   ``pts_ms`` null, show each at once. ``{"type": "portrait"}`` followed by
   one binary image (JPEG, PNG or WebP) changes the portrait (default: the
   bundled one); one without a face is an ``error`` ``no_face_found`` and the
   avatar keeps its portrait. A barge-in's ``interrupted`` comes after the
   last frame of the cut reply: drop the frames and audio not yet shown.

Closing the socket cancels the session's job. Failures before the session
starts close with 4000 + the HTTP status and the error code as the reason:
4401 (bad key), 4404 (no such session: expired, deleted or another owner's),
4400 (no start_session: a first message that is binary, not JSON, nested too
deeply or of another type), 4422 (a ``system_prompt``, ``voice`` or
``language`` that ``POST /v1/assistant/sessions`` would refuse, or one that is
not a string; an ``avatar`` that is not a boolean, an ``fps`` or ``size`` out
of range; a query parameter sent twice, ``repeated_field``; nothing is
stored), 4503 (no worker can host it; a session created for this socket is
removed). In a session, a command that is not a JSON object, or a ``text``
that is not a string, is answered ``{"type": "error", "code":
"invalid_message"}`` and the session goes on; a frame over uvicorn's 16 MiB
closes the socket with 1009.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, WebSocket
from pydantic import BaseModel, ValidationError
from starlette.websockets import WebSocketDisconnect

from visiovox.api.assistant_turns import find_session
from visiovox.api.deps import AuthDep, FollowDep, RelaysDep, SessionsDep, SettingsDep, SubmitDep
from visiovox.api.errors import ApiError, invalid_params
from visiovox.api.job_follow import JobFollower
from visiovox.api.live_relay import LiveRelays
from visiovox.api.live_session import ClientSocket, relay_session, start_message
from visiovox.api.security import Authenticator, Caller
from visiovox.api.submission import Submissions
from visiovox.config import Settings
from visiovox.jobs.live_streams import FrameNumbers
from visiovox.jobs.model import Job
from visiovox.jobs.queues import Priority
from visiovox.jobs.sessions import Session, SessionOptions, SessionStore
from visiovox.pipelines.assistant_live.spec import AVATAR_FIELDS
from visiovox.pipelines.face_swap_live.spec import LiveFaceSwapParams
from visiovox.pipelines.voice_convert_live.spec import LiveVoiceParams

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/live", tags=["live"])

PIPELINE = "assistant-live"
FACE_SWAP_PIPELINE = "face-swap-live"
VOICE_PIPELINE = "voice-convert-live"


def _text(command: dict[str, Any], name: str) -> str | None:
    """A string field of ``command``, stripped (None when absent or blank); 422 otherwise."""
    value = command.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(422, "invalid_params", f"{name}: must be a string")
    return value.strip() or None


def _options(command: dict[str, Any]) -> SessionOptions:
    """The start_session choices, checked as ``POST /v1/assistant/sessions`` checks them."""
    chosen = {name: _text(command, name) for name in SessionOptions.model_fields}
    try:
        return SessionOptions(**chosen)
    except ValidationError as exc:
        raise invalid_params(exc) from None


async def _open_session(
    sessions: SessionStore, owner: str, command: dict[str, Any], query_session_id: str | None
) -> tuple[Session, bool]:
    """The session to host and whether it was created now; nothing is stored unless valid."""
    options = _options(command)
    session_id = _text(command, "session_id") or query_session_id
    if session_id:
        return await find_session(sessions, session_id, owner), False
    session = await sessions.create(
        owner=owner,
        system_prompt=options.system_prompt,
        voice=options.voice,
        language=options.language,
    )
    return session, True


async def _host(
    submissions: Submissions,
    session: Session,
    command: dict[str, Any],
    *,
    caller: Caller,
    max_tokens: int,
) -> Job:
    """Create the job a worker hosts the session in."""
    options = _options(command)
    params: dict[str, Any] = {
        "session_id": session.id,
        "history": session.conversation(),
        "max_tokens": max_tokens,
    }
    for name in ("voice", "language"):
        value = getattr(options, name) or getattr(session, name)
        if value:
            params[name] = value
    params.update({name: command[name] for name in AVATAR_FIELDS if name in command})
    job, _ = await submissions.submit(
        submissions.intake(PIPELINE), caller=caller, params=params, priority=Priority.HIGH
    )
    return job


@router.websocket("/assistant")
async def live_assistant(
    websocket: WebSocket,
    auth: AuthDep,
    settings: SettingsDep,
    sessions: SessionsDep,
    submissions: SubmitDep,
    follower: FollowDep,
    relays: RelaysDep,
    session_id: str | None = None,
) -> None:
    """A spoken conversation: PCM or WAV in; VAD turns; text deltas and sentence WAVs out."""
    await websocket.accept()
    try:
        caller = await auth.caller(websocket, allow_query=True)
        command = await start_message(websocket)
        session, created = await _open_session(sessions, caller.owner, command, session_id)
        try:
            job = await _host(
                submissions,
                session,
                command,
                caller=caller,
                max_tokens=settings.assistant.max_tokens,
            )
        except BaseException:
            if created:  # a session no worker took up is not kept
                with anyio.CancelScope(shield=True):
                    await sessions.delete(session)
            raise
        socket, relay = ClientSocket(websocket), relays.open(job.id)
        await socket.send_json(
            {"type": "session_started", "session_id": session.id, "job_id": job.id}
        )
        await relay_session(
            socket,
            relay,
            follower,
            job,
            limit=settings.live.max_message_bytes,
            # Deleted before the worker hears of end_session: its goodbye may close first.
            on_end=lambda: sessions.delete(session),
        )
    except ApiError as exc:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=4000 + exc.status, reason=exc.code)
    except WebSocketDisconnect:
        return


def _start_params(command: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """The start_session choices checked against ``model``; 422 ``invalid_params``."""
    chosen = {name: value for name, value in command.items() if name != "type"}
    try:
        return model.model_validate(chosen).model_dump(exclude_none=True)
    except ValidationError as exc:
        raise invalid_params(exc) from None


@dataclass(frozen=True)
class MediaSession:
    """What a face swap or voice session's route needs from the gateway."""

    auth: Authenticator
    settings: Settings
    submissions: Submissions
    follower: JobFollower
    relays: LiveRelays


def _media_session(
    auth: AuthDep,
    settings: SettingsDep,
    submissions: SubmitDep,
    follower: FollowDep,
    relays: RelaysDep,
) -> MediaSession:
    return MediaSession(auth, settings, submissions, follower, relays)


MediaSessionDep = Annotated[MediaSession, Depends(_media_session)]


async def _relay_media_session(
    websocket: WebSocket,
    gateway: MediaSession,
    *,
    pipeline: str,
    params_model: type[BaseModel],
    refusals: frozenset[str],
    numbers: FrameNumbers | None = None,
) -> None:
    """A face swap or voice session: ``start_session`` checked against ``params_model``
    (4422 ``invalid_params``), a ``pipeline`` job created for it (the session's id), then
    relayed both ways until either side ends (``refusals``: the worker's errors that close
    4422)."""
    await websocket.accept()
    try:
        caller = await gateway.auth.caller(websocket, allow_query=True)
        params = _start_params(await start_message(websocket), params_model)
        job, _ = await gateway.submissions.submit(
            gateway.submissions.intake(pipeline),
            caller=caller,
            params=params,
            priority=Priority.HIGH,
        )
        socket, relay = ClientSocket(websocket), gateway.relays.open(job.id)
        await socket.send_json({"type": "session_started", "session_id": job.id, "job_id": job.id})
        await relay_session(
            socket,
            relay,
            gateway.follower,
            job,
            limit=gateway.settings.live.max_message_bytes,
            refusals=refusals,
            numbers=numbers,
        )
    except ApiError as exc:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=4000 + exc.status, reason=exc.code)
    except WebSocketDisconnect:
        return


@router.websocket("/face-swap")
async def live_face_swap(websocket: WebSocket, gateway: MediaSessionDep) -> None:
    """Live face swap: a source face, then video frames in; swapped JPEG frames out.

    ``start_session`` takes ``mode``, ``engine``, ``blend``, ``enhance``,
    ``enhance_blend``, ``jpeg_quality`` and ``max_fps`` (a bad one closes 4422
    ``invalid_params``); the session is the job (``session_id`` is its id). The
    next binary message is the source face, then each one a frame; a worker
    (``face-swap-live`` job) answers them. A missing ``inswapper`` (or enhancer)
    model closes 4422 ``model_unavailable``; ``enhance`` on a CPU worker closes
    4422 ``unsupported_on_device``.
    """
    await _relay_media_session(
        websocket,
        gateway,
        pipeline=FACE_SWAP_PIPELINE,
        params_model=LiveFaceSwapParams,
        refusals=frozenset({"model_unavailable", "unsupported_on_device"}),
        numbers=FrameNumbers(),
    )


@router.websocket("/voice")
async def live_voice(websocket: WebSocket, gateway: MediaSessionDep) -> None:
    """Live voice conversion: PCM16 mono chunks in, the same speech in another voice out.

    ``start_session`` takes ``voice`` (a registered RVC voice of the caller's:
    another owner's or an unknown id closes 4404 ``voice_not_found``),
    ``sample_rate`` (16000 or 48000) and ``pitch_shift`` (a bad one closes 4422
    ``invalid_params``); the session is the job (``session_id`` is its id).
    Without a ``voice`` the next binary message is the reference, a WAV file of
    the target voice (3-60 s; ``reference_too_short`` or ``no_speech`` is an
    ``error`` and the next binary message is taken as the reference again);
    ``ready`` follows. Each later binary message is a PCM16 mono chunk at
    ``sample_rate``; a worker (``voice-convert-live`` job) sends the converted
    PCM16 back in order, at the same rate and of the same total length, and
    ``stats`` (``chunks_in``, ``chunks_out``, ``latency_ms_p50``/``p95``,
    ``dropped``, and ``dropped_out``: what the output stream's cap lost) about
    once a second. RVC's shared models missing from the
    worker's cache close 4422 ``model_unavailable``.
    """
    await _relay_media_session(
        websocket,
        gateway,
        pipeline=VOICE_PIPELINE,
        params_model=LiveVoiceParams,
        refusals=frozenset({"model_unavailable"}),
    )
