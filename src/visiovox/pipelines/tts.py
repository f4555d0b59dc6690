"""Text to speech: text in, ``speech.<format>`` out, synthesised sentence by sentence.

The text loses its invisible characters at submission, and text with nothing
speakable left is refused there (422 ``no_speakable_text``, ``media/speakable.py``).
Long sentences are synthesised in bounded chunks, with a cancel honoured
between them, and the job fails with ``audio_too_long`` past
``tts.max_audio_s`` of speech (``synthesis.py``).

Module-level imports stay light (the gateway imports this for ``SPEC``); the
engine and the encoder are imported inside ``run``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from visiovox.media.speakable import speakable_text
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.spec import PipelineSpec

ENGINE = "tts.piper"
# Share of the progress bar synthesis takes; encoding takes the rest.
SYNTHESIS_SHARE = 90.0


class TTSParams(BaseModel):
    """What to say, in which voice, how fast, and in which audio format."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(
        min_length=1,
        max_length=4_096,
        description="Text to speak: invisible characters are dropped; a letter or digit must stay.",
    )
    voice: str | None = Field(
        default=None, max_length=64, description="Voice name; empty: the configured default."
    )
    speed: float = Field(default=1.0, ge=0.25, le=4.0, description="1.0 normal, 2.0 twice as fast.")
    format: Literal["wav", "mp3", "ogg", "opus", "flac", "aac", "pcm"] = Field(
        default="wav",
        description="Audio format of speech.<ext>: ogg and opus are both Opus in Ogg, "
        "aac is ADTS, pcm is raw 16-bit little-endian mono.",
    )

    @field_validator("text")
    @classmethod
    def _speakable(cls, text: str) -> str:
        return speakable_text(text)


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, TTSParams)
    from visiovox.engines.tts.base import TTSEngine
    from visiovox.media.audio import (
        AUDIO_CONTENT_TYPES,
        AUDIO_EXTENSIONS,
        AudioFormat,
        encode_audio,
    )
    from visiovox.pipelines.synthesis import speak_text

    ctx.stage("synthesize")
    engine = ctx.engine(ENGINE, TTSEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
    voice = params.voice or engine.settings.tts.voice

    def progress(share: float, sentence: int) -> None:
        ctx.progress(SYNTHESIS_SHARE * share, stage="synthesize", message=f"sentence {sentence}")

    samples, sentences = speak_text(
        ctx, engine=engine, text=params.text, voice=voice, speed=params.speed, on_progress=progress
    )

    ctx.stage("encode")
    fmt: AudioFormat = "ogg" if params.format == "opus" else params.format
    name = f"speech.{AUDIO_EXTENSIONS[fmt]}"
    written_rate = encode_audio(
        samples, sample_rate=engine.sample_rate, fmt=fmt, path=ctx.output_path(name)
    )
    ctx.add_output(name, AUDIO_CONTENT_TYPES[fmt])
    ctx.progress(100.0, stage="encode")
    return {
        "duration_s": round(len(samples) / engine.sample_rate, 3),
        "sample_rate": written_rate,
        "voice": voice,
        "sentences": sentences,
    }


SPEC = PipelineSpec(
    name="tts",
    summary="Text to speech with Piper: speech.<format> (wav, mp3, ogg/opus, flac, aac, pcm).",
    params=TTSParams,
    run="visiovox.pipelines.tts:run",
    engines=(ENGINE,),
)
