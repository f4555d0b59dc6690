"""The ids the server issues for jobs and sessions, and the one check of their format.

An id is 32 lowercase hex digits (a random UUID's hex). It becomes part of
Redis key names (``<prefix>:job:<id>``, ``<prefix>:session:<id>``), so a
client's id that is not in this format (``<id>:lease``, ``<id>:history``)
could name a key of another type: the gateway refuses such ids before any
Redis read (``api/ids.py``).
"""

from __future__ import annotations

import re
import uuid

_ISSUED_ID = re.compile(r"[0-9a-f]{32}")


def new_id() -> str:
    """A new job or session id."""
    return uuid.uuid4().hex


def is_issued_id(value: str) -> bool:
    """Whether ``value`` has the format of an id this server issues."""
    return _ISSUED_ID.fullmatch(value) is not None
