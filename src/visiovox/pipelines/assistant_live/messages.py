"""What a live session says, either way: the client's commands in, the worker's messages out.

Audio travels as binary messages (PCM16 or a whole WAV in, one WAV per spoken
sentence out; with the avatar, a portrait in after ``portrait`` and a JPEG out
after each ``video_frame``); everything else is a JSON object with a ``type``. The gateway
answers ``start_session`` and ``ping`` itself (``api/routes/live.py``); the
other commands reach the worker, which parses them here, and each message it
sends is one of the small frozen dataclasses below, written out by ``to_json``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar


class EndReason(StrEnum):
    """Why a session ended."""

    END_SESSION = "end_session"  # the client said so
    IDLE = "idle"  # no message for live.idle_timeout_s


# -- in: commands -------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    """``{"type": "text", "text"}``: a typed turn (an empty one is refused)."""

    text: str


@dataclass(frozen=True)
class EndTurn:
    """``{"type": "end_turn"}``: the utterance so far is a turn, pause or not."""


@dataclass(frozen=True)
class EndSession:
    """``{"type": "end_session"}``."""


@dataclass(frozen=True)
class PortraitNext:
    """``{"type": "portrait"}``: the next binary message is the avatar's new portrait."""


@dataclass(frozen=True)
class Unknown:
    """Any other command: answered with ``invalid_message``."""

    type: object


Command = Say | EndTurn | EndSession | PortraitNext | Unknown


def parse_command(message: dict[str, Any]) -> Command:
    """The command a client's JSON message carries."""
    kind = message.get("type")
    if kind == "text":
        return Say(str(message.get("text", "")))
    if kind == "end_turn":
        return EndTurn()
    if kind == "end_session":
        return EndSession()
    if kind == "portrait":
        return PortraitNext()
    return Unknown(kind)


# -- out: messages ------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A JSON message to the client: its ``type`` and its fields."""

    type: ClassVar[str]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class Ready(Outgoing):
    """The worker holds the session's engines and listens."""

    type: ClassVar[str] = "ready"


@dataclass(frozen=True)
class SpeechStarted(Outgoing):
    """The VAD heard the user start to speak."""

    type: ClassVar[str] = "speech_started"


@dataclass(frozen=True)
class Processing(Outgoing):
    """A turn's stage began (``transcribe``, ``generate``)."""

    type: ClassVar[str] = "processing"
    stage: str


@dataclass(frozen=True)
class Transcription(Outgoing):
    """What the user said, as the turn heard it."""

    type: ClassVar[str] = "transcription"
    text: str


@dataclass(frozen=True)
class ResponseDelta(Outgoing):
    """A piece of the reply, as the model wrote it."""

    type: ClassVar[str] = "response"
    delta: str


@dataclass(frozen=True)
class ResponseDone(Outgoing):
    """The whole reply's text, once it was spoken to the end."""

    type: ClassVar[str] = "response"
    text: str
    final: bool = True


@dataclass(frozen=True)
class Complete(Outgoing):
    """A turn's summary: what was heard and said, token usage and timings in seconds."""

    type: ClassVar[str] = "complete"
    transcription: str
    text: str
    usage: dict[str, Any]
    sentences: int
    audio_s: float
    speculative: bool
    dropped: int
    timings: dict[str, float]


@dataclass(frozen=True)
class Interrupted(Outgoing):
    """The user spoke over the reply: nothing more of it is sent."""

    type: ClassVar[str] = "interrupted"


@dataclass(frozen=True)
class Error(Outgoing):
    """Something of this turn or message failed; the session goes on."""

    type: ClassVar[str] = "error"
    code: str
    message: str


@dataclass(frozen=True)
class VideoFrame(Outgoing):
    """Announces the avatar's next frame, the binary JPEG that follows: frame ``index`` of
    sentence ``sentence`` at ``pts_ms`` from the start of its audio, or (both null) an
    idle frame to show at once."""

    type: ClassVar[str] = "video_frame"
    sentence: int | None
    index: int
    pts_ms: int | None


@dataclass(frozen=True)
class Visemes(Outgoing):
    """Sentence ``sentence``'s visemes and blendshape weights at ``fps``, sent before its
    audio; ``frames`` as in ``visemes.json`` (``visemes.py``)."""

    type: ClassVar[str] = "visemes"
    sentence: int
    fps: int
    duration_s: float
    visemes: list[str]
    blendshapes: list[str]
    frames: list[dict[str, Any]]


@dataclass(frozen=True)
class SessionEnded(Outgoing):
    """The last message of a session."""

    type: ClassVar[str] = "session_ended"
    reason: EndReason
