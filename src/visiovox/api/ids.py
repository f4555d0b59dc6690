"""Job and session ids from clients, checked at the edge before any Redis read.

Every route that takes an id checks it here (``jobs/ids.py`` holds the
format): an id not in the format the server issues names no job or session,
so it answers the same 404 as an unknown one, and never reaches a Redis key
of another type (``<id>:lease`` is a string, ``<id>:history`` a list).
HTTP routes take ``JobIdDep``; WebSocket routes, which must accept before
they can close with a code, call ``check_job_id`` themselves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from visiovox.api.errors import job_not_found, session_not_found
from visiovox.jobs.ids import is_issued_id


def check_job_id(job_id: str) -> str:
    """``job_id`` if it is in the issued format; 404 ``job_not_found`` otherwise."""
    if not is_issued_id(job_id):
        raise job_not_found(job_id)
    return job_id


def check_session_id(session_id: str) -> str:
    """``session_id`` if it is in the issued format; 404 ``session_not_found`` otherwise."""
    if not is_issued_id(session_id):
        raise session_not_found(session_id)
    return session_id


async def _job_id(job_id: str) -> str:
    return check_job_id(job_id)


JobIdDep = Annotated[str, Depends(_job_id)]
