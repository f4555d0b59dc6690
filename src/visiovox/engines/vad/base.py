"""The voice-activity interface: 16 kHz PCM chunks in, speech start / pause / end events out.

``SpeechDetector`` turns a model's per-frame speech probabilities into turn
events with hysteresis, as Silero's own ``VADIterator`` does: speech starts
when a frame reaches ``threshold`` and lasts ``min_speech_ms``; it ends once
the probability stayed below ``threshold - 0.15`` for ``min_silence_ms``. A
``PAUSE`` fires earlier, after ``pause_ms`` of silence, so a caller can start
work speculatively while the end-of-speech hangover still runs. Imports nothing
heavy, so pipelines can import it inside ``run`` for free.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visiovox.engines.base import Engine

SAMPLE_RATE = 16_000
# Silero's hysteresis: once speaking, a frame counts as silence only below threshold - 0.15.
HYSTERESIS = 0.15


class VoiceEventKind(enum.StrEnum):
    """What changed in the voice activity."""

    SPEECH_START = "speech_start"
    PAUSE = "pause"
    SPEECH_END = "speech_end"


@dataclass(frozen=True)
class VoiceEvent:
    """A change, with sample positions counted from the first sample fed.

    ``start`` is where the speech began (padding included); ``end`` is the
    last voiced sample plus padding (for ``PAUSE`` and ``SPEECH_END``).
    """

    kind: VoiceEventKind
    start: int
    end: int | None = None


@dataclass(frozen=True)
class VADOptions:
    """How speech is told from silence (milliseconds at 16 kHz)."""

    threshold: float = 0.5
    min_speech_ms: int = 200
    min_silence_ms: int = 500
    speech_pad_ms: int = 100
    pause_ms: int = 0


# Speech probabilities of consecutive frames, in order; the model keeps its own state.
FrameScorer = Callable[[npt.NDArray[np.float32]], list[float]]


class SpeechDetector:
    """Streaming end-of-speech detection on one audio stream (not thread-safe)."""

    def __init__(self, *, score: FrameScorer, frame_samples: int, options: VADOptions) -> None:
        self._score = score
        self._frame = frame_samples
        self._options = options
        self._pending = np.zeros(0, np.float32)
        self._position = 0  # samples scored so far
        self._start: int | None = None  # candidate or confirmed speech start
        self._confirmed = False
        self._last_voiced: int | None = None  # end of the last frame above threshold
        self._paused = False

    @property
    def speaking(self) -> bool:
        """True between a ``SPEECH_START`` and its ``SPEECH_END``."""
        return self._confirmed

    @property
    def samples_seen(self) -> int:
        return self._position + len(self._pending)

    def feed(self, samples: npt.NDArray[np.float32]) -> list[VoiceEvent]:
        """Add mono float32 samples at 16 kHz; answers the events they completed."""
        self._pending = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        whole = len(self._pending) // self._frame * self._frame
        if whole == 0:
            return []
        frames, self._pending = self._pending[:whole], self._pending[whole:]
        events: list[VoiceEvent] = []
        for probability in self._score(frames):
            self._position += self._frame
            event = self._step(probability)
            if event is not None:
                events.append(event)
        return events

    @property
    def paused(self) -> bool:
        """True from a ``PAUSE`` until speech resumes or ends."""
        return self._paused

    @property
    def utterance_start(self) -> int | None:
        """Where the speech under way began, if any is."""
        return self._start

    def finish(self) -> VoiceEvent | None:
        """End the utterance under way now (the client said its turn is over), if any."""
        if self._start is None:
            return None
        pad = ms_to_samples(self._options.speech_pad_ms)
        end = min(self.samples_seen, (self._last_voiced or self._position) + pad)
        start = self._start
        self.reset()
        return VoiceEvent(VoiceEventKind.SPEECH_END, start=start, end=end)

    def reset(self) -> None:
        """Forget the current utterance (the model's state is kept)."""
        self._start, self._confirmed, self._last_voiced, self._paused = None, False, None, False

    def _step(self, probability: float) -> VoiceEvent | None:
        options = self._options
        pad = ms_to_samples(options.speech_pad_ms)
        if probability >= options.threshold:
            if self._start is None:
                self._start = max(0, self._position - self._frame - pad)
            self._last_voiced = self._position
            self._paused = False
            voiced = self._position - (self._start + pad)
            if not self._confirmed and voiced >= ms_to_samples(options.min_speech_ms):
                self._confirmed = True
                return VoiceEvent(VoiceEventKind.SPEECH_START, start=self._start)
            return None
        if self._start is None or self._last_voiced is None:
            return None
        if probability >= options.threshold - HYSTERESIS:
            return None  # between the two thresholds: neither voice nor silence
        silence = self._position - self._last_voiced
        end = self._last_voiced + pad
        if silence >= ms_to_samples(options.min_silence_ms):
            start, confirmed = self._start, self._confirmed
            self.reset()
            if not confirmed:
                return None  # too short to be speech: a click or a cough
            return VoiceEvent(VoiceEventKind.SPEECH_END, start=start, end=end)
        if (
            self._confirmed
            and not self._paused
            and options.pause_ms > 0
            and silence >= ms_to_samples(options.pause_ms)
        ):
            self._paused = True
            return VoiceEvent(VoiceEventKind.PAUSE, start=self._start, end=end)
        return None


def voiced_span(detector: SpeechDetector, audio: npt.NDArray[np.float32]) -> tuple[int, int] | None:
    """From the start of the first utterance to the end of the last in a whole recording.

    Padding included, as the detector's events give them; None when no speech
    is heard at all.
    """
    events = detector.feed(audio)
    last = detector.finish() if detector.speaking else None
    spans = [e for e in [*events, last] if e is not None and e.kind is VoiceEventKind.SPEECH_END]
    starts = [e.start for e in events if e.kind is VoiceEventKind.SPEECH_START]
    if not spans or not starts:
        return None
    return starts[0], max(e.end or e.start for e in spans)


def ms_to_samples(ms: float) -> int:
    return int(ms * SAMPLE_RATE / 1000)


class VADEngine(Engine):
    """Scores speech in 16 kHz audio; each stream gets its own ``SpeechDetector``."""

    @abc.abstractmethod
    def detector(self, options: VADOptions) -> SpeechDetector:
        """A fresh detector with its own model state."""
