"""Where the speech is in a recording: Silero VAD's utterances, and a reference cut to length."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from visiovox.engines.vad.base import SpeechDetector, VoiceEventKind

VAD_RATE = 16_000


def speech_spans(detector: SpeechDetector, audio: npt.NDArray[np.float32]) -> list[tuple[int, int]]:
    """Every utterance of a whole 16 kHz recording as (start, end) samples, padding included."""
    events = detector.feed(audio)
    last = detector.finish() if detector.speaking else None
    return [
        (event.start, event.end if event.end is not None else len(audio))
        for event in [*events, last]
        if event is not None and event.kind is VoiceEventKind.SPEECH_END
    ]


def first_speech(
    spans: list[tuple[int, int]], *, limit_s: float, rate: int
) -> tuple[list[tuple[int, int]], bool]:
    """The spans (at ``rate``) holding the first ``limit_s`` of speech, and whether any was cut."""
    budget = int(limit_s * rate)
    kept: list[tuple[int, int]] = []
    for start, end in spans:
        a, b = start * rate // VAD_RATE, end * rate // VAD_RATE
        if b - a >= budget:
            kept.append((a, a + budget))
            return kept, True
        kept.append((a, b))
        budget -= b - a
    return kept, False
