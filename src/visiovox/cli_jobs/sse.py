"""Server-Sent Events read from lines: ``id``, ``event`` and ``data`` fields, blank-line framed.

A comment line (the gateway's keep-alive) is yielded as ``KEEPALIVE``, so a
reader can look at its clock while a job is quiet; ``retry`` is skipped. An
``event: error`` frame carries the API's error body.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ServerEvent:
    """One SSE frame: its id (None on error frames), type and JSON data."""

    id: str | None
    type: str
    data: dict[str, Any]


KEEPALIVE = ServerEvent(None, "keep-alive", {})


def read_events(lines: Iterable[str | bytes]) -> Iterator[ServerEvent]:
    """The frames of an SSE stream given line by line (without their line ends)."""
    fields: dict[str, str] = {}
    data: list[str] = []
    for raw in lines:
        line = raw.decode() if isinstance(raw, bytes) else raw
        if not line:
            if data:
                body = json.loads("\n".join(data))
                yield ServerEvent(fields.get("id"), fields.get("event", "message"), body)
            fields, data = {}, []
            continue
        if line.startswith(":"):
            yield KEEPALIVE
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name in ("id", "event"):
            fields[name] = value
