"""The tts pipeline's work: speak the text sentence by sentence, then encode ``speech.<format>``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from visiovox.engines.tts.base import SpeechChunk, TTSEngine
from visiovox.errors import PipelineError
from visiovox.media.audio import AUDIO_CONTENT_TYPES, AUDIO_EXTENSIONS, AudioFormat, encode_audio
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.synthesis import speak_text
from visiovox.pipelines.tts.spec import ENGINE, TTSParams
from visiovox.pipelines.viseme_output import spoken_timeline, write_visemes
from visiovox.pipelines.voice_choice import voice_for_language

# Share of the progress bar synthesis takes; encoding takes the rest.
SYNTHESIS_SHARE = 90.0


def _voice(ctx: RunContext, params: TTSParams) -> str:
    """The voice named, else the one of the language given, else the default."""
    if params.voice or not params.language:
        return params.voice or ctx.settings.tts.voice
    voice = voice_for_language(ctx.settings, params.language)
    if voice is None:
        known = ", ".join(sorted(ctx.settings.tts.language_voices))
        raise PipelineError(
            "unsupported_language",
            f"no voice for language {params.language!r} (languages: {known}); name a voice",
        )
    return voice


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, TTSParams)
    ctx.stage("synthesize")
    engine = ctx.engine(ENGINE, TTSEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
    voice = _voice(ctx, params)

    def progress(share: float, sentence: int) -> None:
        ctx.progress(SYNTHESIS_SHARE * share, stage="synthesize", message=f"sentence {sentence}")

    chunks: list[SpeechChunk] = []
    samples, sentences = speak_text(
        ctx,
        engine=engine,
        text=params.text,
        voice=voice,
        speed=params.speed,
        on_progress=progress,
        on_chunk=chunks.append if params.visemes else None,
    )

    ctx.stage("encode")
    fmt: AudioFormat = "ogg" if params.format == "opus" else params.format
    name = f"speech.{AUDIO_EXTENSIONS[fmt]}"
    written_rate = encode_audio(
        samples, sample_rate=engine.sample_rate, fmt=fmt, path=ctx.output_path(name)
    )
    ctx.add_output(name, AUDIO_CONTENT_TYPES[fmt])
    if params.visemes:
        timeline = spoken_timeline(ctx, chunks, sample_rate=engine.sample_rate)
        write_visemes(ctx, timeline, fps=params.visemes_fps)
    ctx.progress(100.0, stage="encode")
    return {
        "duration_s": round(len(samples) / engine.sample_rate, 3),
        "sample_rate": written_rate,
        "voice": voice,
        "sentences": sentences,
    }
