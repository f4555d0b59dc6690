"""The visemes pipeline's work: speak the text and time its phonemes, or hear the upload."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from visiovox.engines.tts.base import SpeechChunk, TTSEngine
from visiovox.engines.visemes.timeline import VisemeTimeline
from visiovox.errors import PipelineError
from visiovox.media.audio import decode_audio, encode_audio
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.synthesis import speak_text
from visiovox.pipelines.viseme_output import heard_timeline, spoken_timeline, write_visemes
from visiovox.pipelines.visemes.spec import INPUT, TTS, VisemesParams
from visiovox.pipelines.voice_choice import voice_for_language

# HeadAudio works at 16 kHz; decoding there keeps a long upload small.
HEARING_RATE = 16_000
SPEECH_WAV = "speech.wav"


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, VisemesParams)
    if ctx.input(INPUT) is not None:
        if params.text is not None:
            raise PipelineError("conflicting_inputs", "send text or an audio file, not both")
        timeline = _heard(ctx)
    else:
        assert params.text is not None  # the spec requires the audio input without it
        timeline = _spoken(ctx, params)
    ctx.stage("write")
    frames = write_visemes(ctx, timeline, fps=params.fps)
    ctx.progress(100.0, stage="write")
    return {
        "source": timeline.source,
        "duration_s": round(timeline.duration_s, 3),
        "fps": params.fps,
        "frame_count": frames,
        "segments": len(timeline.segments),
    }


def _heard(ctx: RunContext) -> VisemeTimeline:
    ctx.stage("classify")
    samples = decode_audio(ctx.input_path(INPUT), sample_rate=HEARING_RATE)
    ctx.check_cancelled()
    return heard_timeline(ctx, samples, sample_rate=HEARING_RATE)


def _spoken(ctx: RunContext, params: VisemesParams) -> VisemeTimeline:
    ctx.stage("synthesize")
    engine = ctx.engine(TTS, TTSEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
    voice = params.voice or _language_voice(ctx, params.language)
    chunks: list[SpeechChunk] = []

    def progress(share: float, sentence: int) -> None:
        ctx.progress(90.0 * share, stage="synthesize", message=f"sentence {sentence}")

    samples, _sentences = speak_text(
        ctx,
        engine=engine,
        text=params.text or "",
        voice=voice,
        speed=params.speed,
        on_progress=progress,
        on_chunk=chunks.append,
    )
    encode_audio(
        samples, sample_rate=engine.sample_rate, fmt="wav", path=ctx.output_path(SPEECH_WAV)
    )
    ctx.add_output(SPEECH_WAV, "audio/wav")
    return spoken_timeline(ctx, chunks, sample_rate=engine.sample_rate)


def _language_voice(ctx: RunContext, language: str | None) -> str:
    """The voice of ``language``, else the default (as ``tts`` chooses)."""
    if not language:
        return ctx.settings.tts.voice
    voice = voice_for_language(ctx.settings, language)
    if voice is None:
        known = ", ".join(sorted(ctx.settings.tts.language_voices))
        raise PipelineError(
            "unsupported_language",
            f"no voice for language {language!r} (languages: {known}); name a voice",
        )
    return voice
