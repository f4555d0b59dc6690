"""Appending to an assistant session's history, for the gateway and the worker alike.

The commands go on a Redis pipeline (sync or asyncio: they share the methods),
so the push, the trim to the newest ``max_messages`` and the renewal of the
session's lifetime land together.
"""

from __future__ import annotations

import json
from typing import Any

from visiovox.jobs.keys import RedisKeys


def queue_append(
    pipe: Any,
    *,
    keys: RedisKeys,
    session_id: str,
    messages: list[dict[str, str]],
    max_messages: int,
    ttl_s: int,
) -> None:
    """Queue on ``pipe``: add ``messages``, trim the history, renew the session's TTL."""
    history = keys.session_history(session_id)
    pipe.rpush(history, *(json.dumps(m, ensure_ascii=False) for m in messages))
    pipe.ltrim(history, -max_messages, -1)
    pipe.expire(history, ttl_s)
    pipe.expire(keys.session(session_id), ttl_s)
