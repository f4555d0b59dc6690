"""The entries of a live session's two capped Redis streams, as both ends encode them.

A live session is a long-running job: the gateway holding the WebSocket
``XADD``s what the client sends to ``live:<job>:in`` and relays what the worker
``XADD``s to ``live:<job>:out``. Both streams are capped with ``MAXLEN ~`` (the
oldest entries go first, so a stalled reader loses old audio, not fresh audio)
and expire if both ends vanish. Entries on the way in are numbered, so the
worker can count what the cap dropped.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from visiovox.jobs.keys import as_text


class EntryKind(enum.StrEnum):
    """Binary audio, or a JSON message."""

    AUDIO = "a"
    MESSAGE = "m"


@dataclass(frozen=True)
class LiveEntry:
    """One message of a live session, in either direction."""

    kind: EntryKind
    data: bytes
    seq: int = 0

    @classmethod
    def message(cls, payload: dict[str, Any], *, seq: int = 0) -> LiveEntry:
        return cls(EntryKind.MESSAGE, json.dumps(payload, ensure_ascii=False).encode(), seq)

    @classmethod
    def audio(cls, data: bytes, *, seq: int = 0) -> LiveEntry:
        return cls(EntryKind.AUDIO, data, seq)

    def payload(self) -> dict[str, Any]:
        """A message's JSON object (an empty dict for anything that is not one)."""
        try:
            value = json.loads(self.data)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def fields(self) -> dict[str, bytes | str | int]:
        return {"k": self.kind.value, "d": self.data, "n": self.seq}

    @classmethod
    def from_fields(cls, fields: dict[Any, Any]) -> LiveEntry:
        values = {as_text(key): value for key, value in fields.items()}
        return cls(
            kind=EntryKind(as_text(values.get("k", "m"))),
            data=bytes(values.get("d", b"")),
            seq=int(as_text(values.get("n", "0"))),
        )
