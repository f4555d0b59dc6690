"""Parsing a client's JSON (request bodies, WebSocket messages) with a bound on nesting.

``json.loads`` recurses once per level: a body of 50,000 ``[`` raises
``RecursionError``, which is no ``ValueError`` and would end as a 500. Here
any nesting deeper than ``MAX_JSON_DEPTH`` is refused as ``JsonTooDeep``, a
``ValueError`` like every other malformed JSON, before anything downstream
(pydantic, ``json.dumps`` into Redis) meets it. The bodies FastAPI parses
itself for pydantic-typed routes are answered in ``api/errors.py``.
"""

from __future__ import annotations

import json
from typing import Any

# No request of this API nests deeper than about 6 levels; the bound leaves room.
MAX_JSON_DEPTH = 64


class JsonTooDeep(ValueError):
    """The JSON nests deeper than ``MAX_JSON_DEPTH`` levels."""

    def __init__(self) -> None:
        super().__init__(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels")


def parse_json(data: str | bytes) -> Any:
    """``json.loads(data)``; ``ValueError`` (``JsonTooDeep`` too) for anything not accepted."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise JsonTooDeep from None
    _check_depth(value)
    return value


def _check_depth(value: Any) -> None:
    """Walks the containers without recursion, at most ``MAX_JSON_DEPTH`` levels down."""
    level: list[Any] = [value]
    for _ in range(MAX_JSON_DEPTH):
        level = [
            child
            for item in level
            if isinstance(item, (dict, list))
            for child in (item.values() if isinstance(item, dict) else item)
        ]
        if not level:
            return
    if any(isinstance(item, (dict, list)) for item in level):
        raise JsonTooDeep
