"""What a live turn is made of: a WAV utterance, a speech event and when it was heard, the
work guessed at a pause, the items the loop handles, which of them cut a reply short, and
a turn's timings."""

from __future__ import annotations

import time
from dataclasses import dataclass

from visiovox.engines.vad.base import VoiceEvent, VoiceEventKind
from visiovox.pipelines.assistant_live.audio import Samples
from visiovox.pipelines.assistant_live.messages import Command, EndSession, Say
from visiovox.pipelines.assistant_live.reply import LiveReply, ReplyOutcome


@dataclass(frozen=True)
class Utterance:
    """A whole spoken turn that came as one WAV message."""

    samples: Samples


@dataclass(frozen=True)
class Heard:
    """A VAD event and when the listener saw it (``time.perf_counter``); a ``PAUSE``
    carries its number, for asking whether the speech went on after it."""

    event: VoiceEvent
    at: float
    pause: int = 0


@dataclass(frozen=True)
class Rejected:
    """A client message the listener could not use (a broken WAV): reported, then skipped."""

    code: str
    message: str


@dataclass(frozen=True)
class PortraitImage:
    """The binary message that followed ``{"type": "portrait"}``: the avatar's new picture."""

    data: bytes


@dataclass(frozen=True)
class Guess:
    """Work done at a pause, valid while the utterance still ends there: its transcription
    and, when something was heard, the reply prepared up to its first audio (held back)."""

    start: int
    end: int
    text: str
    seconds: float
    reply: LiveReply | None


Pending = Heard | Utterance | Rejected | PortraitImage | Command


def interrupts(item: Pending) -> bool:
    if isinstance(item, Heard):
        return item.event.kind is VoiceEventKind.SPEECH_START
    # A new turn (or the session's end) cuts a reply short.
    return isinstance(item, Utterance | Say | EndSession)


def turn_timings(
    before: dict[str, float], outcome: ReplyOutcome, detected_at: float
) -> dict[str, float]:
    """Stage seconds, and milestones in seconds since the end of speech was detected
    (work prepared before it counts as done at that moment)."""
    milestones = {
        "first_token": outcome.first_token_at,
        "first_audio": outcome.first_audio_at,
        "complete": time.perf_counter(),
    }
    timings = {
        **before,
        **{name: max(0.0, at - detected_at) for name, at in milestones.items() if at is not None},
        "generate": outcome.generate_s,
        "synthesize": outcome.synthesize_s,
    }
    return {name: round(value, 3) for name, value in timings.items()}
