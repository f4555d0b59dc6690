"""A voice assistant turn as a job: the session's history in, the exchange back into it.

Used by ``POST /v1/assistant/sessions/{id}/turns``; the live socket shares the
session lookup (its turns run inside one ``assistant-live`` job instead).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from visiovox.api import job_runs
from visiovox.api.deps import Gateway
from visiovox.api.errors import ApiError
from visiovox.jobs.model import InputFile, Job
from visiovox.jobs.sessions import Session, SessionStore


def session_store(gateway: Gateway) -> SessionStore:
    return SessionStore(
        gateway.aredis, keys=gateway.domain.keys, settings=gateway.settings.assistant
    )


async def find_session(gateway: Gateway, session_id: str, owner: str) -> Session:
    """The caller's session; 404 ``session_not_found`` otherwise."""
    session = await session_store(gateway).get(session_id, owner)
    if session is None:
        raise ApiError(404, "session_not_found", f"no session {session_id!r}")
    return session


async def submit_turn(
    gateway: Gateway,
    session: Session,
    *,
    params: dict[str, Any],
    inputs: Sequence[InputFile],
    job_id: str,
) -> Job:
    """Run an ``assistant`` job on the session's history (a client's ``history`` is dropped)."""
    sent = {name: value for name, value in params.items() if name != "history"}
    full: dict[str, Any] = {
        "max_tokens": gateway.settings.assistant.max_tokens,
        **sent,
        "history": session.conversation(),
    }
    for name in ("voice", "language"):
        value = getattr(session, name)
        if value and name not in full:
            full[name] = value
    return await job_runs.submit(
        gateway,
        pipeline="assistant",
        owner=session.owner,
        params=full,
        inputs=inputs,
        job_id=job_id,
    )


async def remember(gateway: Gateway, session: Session, job: Job) -> Job:
    """Wait for the turn's job; on success add the exchange to the session's history."""
    done = await job_runs.finished(gateway, job)
    await record(gateway, session, done)
    return done


async def record(gateway: Gateway, session: Session, done: Job) -> None:
    """Add a finished turn's exchange to the session's history."""
    result = done.result or {}
    await session_store(gateway).append(
        session.id,
        [
            {"role": "user", "content": str(result.get("transcription", ""))},
            {"role": "assistant", "content": str(result.get("text", ""))},
        ],
    )


async def remember_quietly(gateway: Gateway, session: Session, job: Job) -> None:
    """``remember`` for a background task: a failed turn just leaves the history as it was."""
    with contextlib.suppress(ApiError):
        await remember(gateway, session, job)
