"""A voice assistant turn as a job: the session's history in, the exchange back into it.

Used by ``POST /v1/assistant/sessions/{id}/turns``; the live socket shares the
session lookup (its turns run inside one ``assistant-live`` job instead).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from visiovox.api.errors import ApiError, session_not_found
from visiovox.api.ids import check_session_id
from visiovox.api.job_follow import JobFollower
from visiovox.api.security import Caller
from visiovox.api.submission import Intake, Submissions
from visiovox.jobs.model import InputFile, Job
from visiovox.jobs.queues import Priority
from visiovox.jobs.sessions import Session, SessionStore

PIPELINE = "assistant"


async def find_session(sessions: SessionStore, session_id: str, owner: str) -> Session:
    """The caller's session; 404 ``session_not_found`` otherwise (a malformed id too)."""
    session = await sessions.get(check_session_id(session_id), owner)
    if session is None:
        raise session_not_found(session_id)
    return session


class AssistantTurns:
    """Runs turns of a session as ``assistant`` jobs and keeps the exchanges in its history."""

    def __init__(
        self,
        *,
        sessions: SessionStore,
        submissions: Submissions,
        follower: JobFollower,
        max_tokens: int,
    ) -> None:
        self._sessions = sessions
        self._submissions = submissions
        self._follower = follower
        self._max_tokens = max_tokens

    def intake(self) -> Intake:
        """A new turn's submission: the ``assistant`` pipeline and a new job id."""
        return self._submissions.intake(PIPELINE)

    async def submit(
        self,
        session: Session,
        intake: Intake,
        *,
        caller: Caller,
        params: dict[str, Any],
        inputs: Sequence[InputFile],
    ) -> Job:
        """Run an ``assistant`` job on the session's history (a client's ``history`` is dropped)."""
        sent = {name: value for name, value in params.items() if name != "history"}
        full: dict[str, Any] = {
            "max_tokens": self._max_tokens,
            **sent,
            "history": session.conversation(),
        }
        for name in ("voice", "language"):
            value = getattr(session, name)
            if value and name not in full:
                full[name] = value
        # Someone waits for the answer: ahead of batch work.
        job, _ = await self._submissions.submit(
            intake, caller=caller, params=full, inputs=inputs, priority=Priority.HIGH
        )
        return job

    async def remember(self, session: Session, job: Job) -> Job:
        """Wait for the turn's job; on success add the exchange to the session's history."""
        done = await self._follower.finished(job)
        result = done.result or {}
        await self._sessions.append(
            session.id,
            [
                {"role": "user", "content": str(result.get("transcription", ""))},
                {"role": "assistant", "content": str(result.get("text", ""))},
            ],
        )
        return done

    async def remember_quietly(self, session: Session, job: Job) -> None:
        """``remember`` for a background task: a failed turn just leaves the history as it was."""
        with contextlib.suppress(ApiError):
            await self.remember(session, job)
