"""The entries of a live session's two capped Redis streams, as both ends encode them.

A live session is a long-running job: the gateway holding the WebSocket
``XADD``s what the client sends to ``live:<job>:in`` and relays what the worker
``XADD``s to ``live:<job>:out``. Both streams are capped with ``MAXLEN ~`` (the
oldest entries go first, so a stalled reader loses old audio, not fresh audio)
and expire if both ends vanish. Entries on the way in are numbered, so the
worker can count what the cap dropped; a live face swap's gateway also numbers
the client's video frames (``FRAME`` entries), and stamps every entry with the
frames numbered before it, so the worker can name each frame the cap dropped.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, replace
from typing import Any

from visiovox.jobs.keys import as_text


class EntryKind(enum.StrEnum):
    """Binary audio (any binary message), a binary video frame, or a JSON message."""

    AUDIO = "a"
    FRAME = "f"
    MESSAGE = "m"


@dataclass(frozen=True)
class LiveEntry:
    """One message of a live session, in either direction."""

    kind: EntryKind
    data: bytes
    seq: int = 0
    # Video frames the gateway numbered before this entry (a FRAME's own 0-based seq).
    frames: int = 0

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
        return {"k": self.kind.value, "d": self.data, "n": self.seq, "f": self.frames}

    @classmethod
    def from_fields(cls, fields: dict[Any, Any]) -> LiveEntry:
        values = {as_text(key): value for key, value in fields.items()}
        return cls(
            kind=EntryKind(as_text(values.get("k", "m"))),
            data=bytes(values.get("d", b"")),
            seq=int(as_text(values.get("n", "0"))),
            frames=int(as_text(values.get("f", "0"))),
        )


# Commands after which the next binary message is an image, not a video frame.
UPLOAD_COMMANDS = frozenset({"source", "reference"})


class FrameNumbers:
    """Numbers a live face swap client's video frames, in the order the gateway relays them.

    The first binary message is the source image, and so is the one after a
    ``source`` or ``reference`` command; every other binary message is a video
    frame, numbered from 0 as the client counts them. Each entry carries the
    frames numbered before it, so the worker can list the ones the input
    stream's cap dropped (a gap) even when the entry after them is a command.
    """

    def __init__(self) -> None:
        self._frames = 0
        self._upload_next = True

    def stamp(self, entry: LiveEntry) -> LiveEntry:
        """``entry`` with its frame count (a video frame turned into a ``FRAME``)."""
        if entry.kind is EntryKind.MESSAGE:
            if entry.payload().get("type") in UPLOAD_COMMANDS:
                self._upload_next = True
            return replace(entry, frames=self._frames)
        if self._upload_next:
            self._upload_next = False
            return replace(entry, frames=self._frames)
        self._frames += 1
        return replace(entry, kind=EntryKind.FRAME, frames=self._frames - 1)
