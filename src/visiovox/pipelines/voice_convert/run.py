"""The voice-convert pipeline's work: decode, find the speech, measure both voices, convert, encode.

Both recordings must hold speech (Silero VAD; else ``no_speech``). The
reference is measured on its speech alone, its first ``MAX_REFERENCE_S`` of it;
the source is converted whole, so the output lasts as long as the input.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from visiovox.engines.vad.base import VADEngine, VADOptions
from visiovox.engines.voice.base import ConversionPlan, NoVoicedSpeech, VoiceConverter, VoiceProfile
from visiovox.errors import PipelineError
from visiovox.media.audio import (
    AUDIO_CONTENT_TYPES,
    AUDIO_EXTENSIONS,
    AudioFormat,
    decode_audio,
    encode_audio,
)
from visiovox.media.errors import MediaError
from visiovox.media.resample import resample
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.voice_convert.rvc import run_rvc
from visiovox.pipelines.voice_convert.spec import (
    AUDIO,
    MAX_REFERENCE_S,
    MIN_REFERENCE_S,
    OFFLINE_ENGINE,
    REFERENCE,
    VAD,
    VoiceConvertParams,
)
from visiovox.pipelines.voice_convert.speech import VAD_RATE, first_speech, speech_spans

# Speech keeps its detail to 11 kHz; Piper speaks at this rate too.
WORK_RATE = 22_050


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, VoiceConvertParams)
    if params.voice is not None or params.engine == "rvc":
        return run_rvc(ctx, params)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    ctx.stage("decode")
    source = _decode(ctx, AUDIO)
    reference = _decode(ctx, REFERENCE)
    if len(reference) < MIN_REFERENCE_S * WORK_RATE:
        raise PipelineError(
            "reference_too_short",
            f"{REFERENCE} lasts {len(reference) / WORK_RATE:.2f} s; at least {MIN_REFERENCE_S:g} s",
        )
    clock = _lap(timings, "decode", clock)
    ctx.progress(10.0, stage="decode")
    ctx.check_cancelled()

    ctx.stage("detect_speech")
    _speech(ctx, source, AUDIO)
    spans, trimmed = first_speech(
        _speech(ctx, reference, REFERENCE), limit_s=MAX_REFERENCE_S, rate=WORK_RATE
    )
    reference_speech = np.concatenate([reference[a:b] for a, b in spans])
    clock = _lap(timings, "detect_speech", clock)
    ctx.progress(25.0, stage="detect_speech")
    ctx.check_cancelled()

    ctx.stage("analyse")
    engine = ctx.engine(OFFLINE_ENGINE, VoiceConverter)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
    source_voice = _profile(engine, source, AUDIO)
    target_voice = _profile(engine, reference_speech, REFERENCE)
    plan = ConversionPlan.between(
        source=source_voice, target=target_voice, pitch_shift=params.pitch_shift
    )
    clock = _lap(timings, "analyse", clock)
    ctx.progress(40.0, stage="analyse")
    ctx.check_cancelled()

    ctx.stage("convert")
    converted = engine.convert(source, sample_rate=WORK_RATE, plan=plan)
    clock = _lap(timings, "convert", clock)
    ctx.progress(90.0, stage="convert")
    ctx.check_cancelled()

    ctx.stage("encode")
    fmt: AudioFormat = "ogg" if params.format == "opus" else params.format
    name = f"converted.{AUDIO_EXTENSIONS[fmt]}"
    written_rate = encode_audio(
        converted, sample_rate=WORK_RATE, fmt=fmt, path=ctx.output_path(name)
    )
    ctx.add_output(name, AUDIO_CONTENT_TYPES[fmt])
    _lap(timings, "encode", clock)
    ctx.progress(100.0, stage="encode")
    return {
        "engine": OFFLINE_ENGINE,
        "duration_s": round(len(converted) / WORK_RATE, 3),
        "sample_rate": written_rate,
        "source_f0_median_hz": round(source_voice.f0_median_hz, 1),
        "target_f0_median_hz": round(target_voice.f0_median_hz, 1),
        "pitch_shift": round(plan.shift_semitones(source_voice), 2),
        "pitch_range": round(plan.pitch_range, 3),
        "formant_ratio": round(plan.formant_ratio, 3),
        "reference": {
            "duration_s": round(len(reference) / WORK_RATE, 3),
            "speech_s": round(len(reference_speech) / WORK_RATE, 3),
            "trimmed_to_s": MAX_REFERENCE_S if trimmed else None,
        },
        "timings_ms": timings,
    }


def _decode(ctx: RunContext, field: str) -> npt.NDArray[np.float32]:
    try:
        return decode_audio(ctx.input_path(field), sample_rate=WORK_RATE)
    except MediaError as exc:
        raise PipelineError(exc.code, f"{field}: {exc.message}") from exc


def _speech(ctx: RunContext, audio: npt.NDArray[np.float32], field: str) -> list[tuple[int, int]]:
    """The utterances Silero VAD hears in ``audio``; ``no_speech`` when there are none."""
    vad = ctx.engine(VAD, VADEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
    spans = speech_spans(vad.detector(VADOptions()), resample(audio, rate=WORK_RATE, to=VAD_RATE))
    if not spans:
        raise PipelineError(
            "no_speech",
            f"{field}: the audio holds no speech (only silence, noise, music or a tone)",
        )
    return spans


def _profile(engine: VoiceConverter, audio: npt.NDArray[np.float32], field: str) -> VoiceProfile:
    try:
        return engine.analyse(audio, sample_rate=WORK_RATE)
    except NoVoicedSpeech as exc:
        raise PipelineError("no_speech", f"{field}: too little voiced speech ({exc})") from exc


def _lap(timings: dict[str, float], stage: str, since: float) -> float:
    now = time.perf_counter()
    timings[stage] = round((now - since) * 1000.0, 1)
    return now
