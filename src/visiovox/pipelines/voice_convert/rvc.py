"""``voice-convert`` with a registered RVC voice (``voice``; ``engine`` ``auto`` or ``rvc``).

The gateway has checked that the voice is the job owner's and validated
(``api/voice_check.py``); its files are read from ``<storage root>/voices/<id>/``.
The source is decoded at 16 kHz (RVC's feature rate), must hold speech
(Silero VAD; else ``no_speech``) and is converted whole by ``voice.rvc``;
the output is at the voice's rate and the input's duration. The automatic
``pitch_shift`` moves the source's median F0 (RMVPE's, voiced frames) to the
voice's ``f0_median_hz`` when its owner gave one, else leaves it (0).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from visiovox.engines.vad.base import VADEngine, VADOptions
from visiovox.engines.voice.rvc import RvcConverter, RvcSettings, RvcVoice
from visiovox.errors import PipelineError
from visiovox.jobs.voices import voice_files
from visiovox.media.audio import (
    AUDIO_CONTENT_TYPES,
    AUDIO_EXTENSIONS,
    AudioFormat,
    decode_audio,
    encode_audio,
)
from visiovox.media.errors import MediaError
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.voice_convert.spec import AUDIO, VAD, VoiceConvertParams
from visiovox.pipelines.voice_convert.speech import VAD_RATE, speech_spans

RVC_ENGINE = "voice.rvc"
MAX_SHIFT = 24.0


def run_rvc(ctx: RunContext, params: VoiceConvertParams) -> dict[str, Any]:
    """Convert ``audio`` with the registered voice ``params.voice``."""
    if params.voice is None:
        raise PipelineError("model_unavailable", "the rvc engine needs a registered voice")
    if params.engine == "psola":
        raise PipelineError(
            "engine_unsupported", "a registered voice is an RVC voice: use engine auto or rvc"
        )
    files = voice_files(ctx.settings.storage)
    meta = files.read_meta(params.voice)
    if meta is None:
        raise PipelineError("voice_not_found", f"no voice {params.voice!r}")
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    ctx.stage("decode")
    try:
        source = decode_audio(ctx.input_path(AUDIO), sample_rate=VAD_RATE)
    except MediaError as exc:
        raise PipelineError(exc.code, f"{AUDIO}: {exc.message}") from exc
    clock = _lap(timings, "decode", clock)
    ctx.check_cancelled()

    ctx.stage("detect_speech")
    vad = ctx.engine(VAD, VADEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
    if not speech_spans(vad.detector(VADOptions()), source):
        raise PipelineError("no_speech", f"{AUDIO}: the audio holds no speech")
    clock = _lap(timings, "detect_speech", clock)
    ctx.progress(20.0, stage="detect_speech")
    ctx.check_cancelled()

    ctx.stage("convert")
    engine = ctx.engine(RVC_ENGINE, RvcConverter)
    source_median = _median(engine.f0(source))
    shift = params.pitch_shift
    if shift is None:
        shift = 0.0
        if meta.f0_median_hz is not None and source_median > 0:
            shift = 12.0 * math.log2(meta.f0_median_hz / source_median)
    shift = max(-MAX_SHIFT, min(MAX_SHIFT, shift))
    bank = files.bank(params.voice)
    voice = RvcVoice(
        model=files.model(params.voice),
        sample_rate=meta.sample_rate,
        bank=bank if bank.exists() else None,
    )
    out = engine.convert(source, voice=voice, knobs=RvcSettings(pitch_shift=shift))
    clock = _lap(timings, "convert", clock)
    ctx.progress(90.0, stage="convert")
    ctx.check_cancelled()

    ctx.stage("encode")
    fmt: AudioFormat = "ogg" if params.format == "opus" else params.format
    name = f"converted.{AUDIO_EXTENSIONS[fmt]}"
    written_rate = encode_audio(
        out.samples, sample_rate=out.sample_rate, fmt=fmt, path=ctx.output_path(name)
    )
    ctx.add_output(name, AUDIO_CONTENT_TYPES[fmt])
    _lap(timings, "encode", clock)
    ctx.progress(100.0, stage="encode")
    return {
        "engine": RVC_ENGINE,
        "voice": params.voice,
        "duration_s": round(len(out.samples) / out.sample_rate, 3),
        "sample_rate": written_rate,
        "source_f0_median_hz": round(source_median, 1),
        "target_f0_median_hz": round(_median(out.f0_hz), 1),
        "pitch_shift": round(shift, 2),
        "timings_ms": timings,
    }


def _median(f0: npt.NDArray[np.float32]) -> float:
    voiced = f0[f0 > 0]
    return float(np.median(voiced)) if len(voiced) else 0.0


def _lap(timings: dict[str, float], stage: str, since: float) -> float:
    now = time.perf_counter()
    timings[stage] = round((now - since) * 1000.0, 1)
    return now
