"""The speech-to-text interface: 16 kHz mono float32 in, a timed transcript out.

Imports nothing heavy, so pipelines can import it inside ``run`` for free.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from visiovox.engines.base import Engine

# What every STT engine takes: mono float32 in [-1, 1] at this rate.
SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class Word:
    """One recognised word with its span in seconds and the model's confidence."""

    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """A stretch of speech; ``words`` is empty unless word timestamps were asked for."""

    id: int
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    """Everything said in the audio; ``text`` is empty when nobody spoke."""

    text: str
    language: str | None
    duration_s: float
    segments: tuple[Segment, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# Called after each segment with the segment and how far into the audio it ends
# (seconds); it may raise (e.g. ``JobCanceled``) to stop transcription there.
SegmentCallback = Callable[[Segment, float], None]


class STTEngine(Engine):
    """Transcribes speech, segment by segment."""

    @abc.abstractmethod
    def transcribe(
        self,
        audio: npt.NDArray[np.float32],
        *,
        language: str | None = None,
        word_timestamps: bool = False,
        on_segment: SegmentCallback | None = None,
        utterance: bool = False,
    ) -> Transcript:
        """Transcribe ``audio`` (16 kHz mono float32); ``language`` None detects it.

        ``utterance``: the audio is one already-segmented utterance (a live turn
        cut by a VAD), so skip the engine's own silence filter and timestamps.
        """
