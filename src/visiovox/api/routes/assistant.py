"""Voice assistant sessions and their turns.

``POST /v1/assistant/sessions`` opens a session (optional ``system_prompt``,
``voice`` and ``language``, which spares Whisper its detection pass);
``GET``/``DELETE /v1/assistant/sessions/{id}`` read and end it;
``GET /v1/assistant/sessions`` lists the caller's.
``POST /v1/assistant/sessions/{id}/turns`` takes multipart ``audio`` (or a
``text`` field) and runs an ``assistant`` job with the session's history.
Without ``wait`` it answers 202 with the job (follow its events for tokens and
``sentence-NNN.wav`` outputs); with ``?wait=true`` it answers the spoken reply
itself, with ``X-Transcription``, ``X-Response-Text`` (both percent-encoded
UTF-8), ``X-Session-ID``, ``X-Job-ID`` and ``X-Processing-Time`` headers. The
turn joins the history when its job succeeds, in either case.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse

from visiovox.api.assistant_turns import find_session
from visiovox.api.deps import CallerDep, FilesDep, SessionsDep, SubmitDep, TurnsDep
from visiovox.api.schemas import ErrorBody, job_response
from visiovox.jobs.sessions import SessionOptions

router = APIRouter(prefix="/v1/assistant/sessions", tags=["assistant"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 413, 415, 422, 429, 500, 503)
}


@router.post("", status_code=201, responses=_ERRORS)
async def create_session(
    caller: CallerDep, sessions: SessionsDep, body: SessionOptions | None = None
) -> JSONResponse:
    """Open a session; it expires ``assistant.session_ttl_s`` after its last turn."""
    body = body or SessionOptions()
    session = await sessions.create(
        owner=caller.owner,
        system_prompt=body.system_prompt,
        voice=body.voice,
        language=body.language,
    )
    headers = {"Location": f"/v1/assistant/sessions/{session.id}"}
    return JSONResponse(session.to_json(), status_code=201, headers=headers)


@router.get("", responses=_ERRORS)
async def list_sessions(caller: CallerDep, sessions: SessionsDep) -> JSONResponse:
    """The caller's live sessions, newest first."""
    found = await sessions.for_owner(caller.owner)
    return JSONResponse({"object": "list", "data": [s.to_json() for s in found]})


@router.get("/{session_id}", responses=_ERRORS)
async def get_session(session_id: str, caller: CallerDep, sessions: SessionsDep) -> JSONResponse:
    """The session and its history (newest ``assistant.max_history_messages`` messages)."""
    return JSONResponse((await find_session(sessions, session_id, caller.owner)).to_json())


@router.delete("/{session_id}", status_code=204, responses=_ERRORS)
async def delete_session(session_id: str, caller: CallerDep, sessions: SessionsDep) -> Response:
    """End the session and forget its history."""
    session = await find_session(sessions, session_id, caller.owner)
    await sessions.delete(session)
    return Response(status_code=204)


@router.post("/{session_id}/turns", response_model=None, responses=_ERRORS)
async def take_turn(
    session_id: str,
    request: Request,
    caller: CallerDep,
    sessions: SessionsDep,
    submissions: SubmitDep,
    turns: TurnsDep,
    files: FilesDep,
    background: BackgroundTasks,
    wait: bool = False,
) -> Response:
    """One turn: multipart ``audio`` (or ``text``); 202 with the job, or the reply with ``wait``."""
    started = time.perf_counter()
    session = await find_session(sessions, session_id, caller.owner)
    intake = turns.intake()
    received = await submissions.receive(request, intake)
    job = await turns.submit(
        session, intake, caller=caller, params=received.params, inputs=received.inputs
    )
    if not wait:
        background.add_task(turns.remember_quietly, session, job)
        return job_response(job, status_code=202, headers={"X-Session-ID": session.id})
    done = await turns.remember(session, job)
    result = done.result or {}
    (reply,) = [o for o in done.outputs if o.name.startswith("reply.")]
    audio = await anyio.to_thread.run_sync(files.read_output, done.id, reply.name)
    headers = {
        "X-Transcription": quote(str(result.get("transcription", ""))),
        "X-Response-Text": quote(str(result.get("text", ""))),
        "X-Session-ID": session.id,
        "X-Job-ID": done.id,
        "X-Processing-Time": f"{time.perf_counter() - started:.3f}",
    }
    return Response(audio, media_type=reply.content_type, headers=headers)
