"""The session's target voice from a reference recording: checked, measured, planned.

The reference is one binary WAV message (any rate, decoded to the session's).
It must last ``MIN_REFERENCE_S`` (``reference_too_short``) and hold speech by
Silero VAD (``no_speech``); its first ``MAX_REFERENCE_S`` of speech are
measured. The plan is fixed for the session: the pitch median moves to the
reference's (``pitch_shift`` semitones from it), while the pitch range and
the formants stay the speaker's, since a live session has no recording of
its speaker to compare with before it starts.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from visiovox.engines.vad.base import VADEngine, VADOptions
from visiovox.engines.voice.base import (
    F0_LIMITS_HZ,
    ConversionPlan,
    NoVoicedSpeech,
    VoiceConverter,
)
from visiovox.errors import PipelineError
from visiovox.media.audio import decode_audio
from visiovox.media.errors import MediaError
from visiovox.media.resample import resample
from visiovox.pipelines.voice_convert.spec import MAX_REFERENCE_S, MIN_REFERENCE_S
from visiovox.pipelines.voice_convert.speech import VAD_RATE, first_speech, speech_spans


def reference_plan(
    data: bytes,
    *,
    rate: int,
    engine: VoiceConverter,
    vad: VADEngine,
    pitch_shift: float | None,
) -> ConversionPlan:
    """The plan toward the voice of the WAV ``data``; ``PipelineError`` when it cannot serve."""
    with tempfile.TemporaryDirectory(prefix="vv-live-voice-") as folder:
        path = Path(folder) / "reference"
        path.write_bytes(data)
        try:
            samples = decode_audio(path, sample_rate=rate)
        except MediaError as exc:
            raise PipelineError(exc.code, f"reference: {exc.message}") from exc
    if len(samples) < MIN_REFERENCE_S * rate:
        raise PipelineError(
            "reference_too_short",
            f"the reference lasts {len(samples) / rate:.2f} s; at least {MIN_REFERENCE_S:g} s",
        )
    detector = vad.detector(VADOptions())
    spans = speech_spans(detector, resample(samples, rate=rate, to=VAD_RATE))
    if not spans:
        raise PipelineError("no_speech", "the reference holds no speech; send another")
    kept, _ = first_speech(spans, limit_s=MAX_REFERENCE_S, rate=rate)
    speech = np.concatenate([samples[a:b] for a, b in kept])
    try:
        target = engine.analyse(speech, sample_rate=rate)
    except NoVoicedSpeech as exc:
        raise PipelineError(
            "no_speech", f"the reference: too little voiced speech ({exc})"
        ) from exc
    median = target.f0_median_hz * 2.0 ** ((pitch_shift or 0.0) / 12.0)
    return ConversionPlan(
        f0_median_hz=float(np.clip(median, *F0_LIMITS_HZ)), pitch_range=1.0, formant_ratio=1.0
    )
