"""Text to speech: text in, ``speech.<format>`` out, synthesised sentence by sentence.

Module-level imports stay light (the gateway imports this for ``SPEC``); the
engine and the encoder are imported inside ``run``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from visiovox.pipelines.context import RunContext
from visiovox.pipelines.errors import PipelineError
from visiovox.pipelines.spec import PipelineSpec

ENGINE = "tts.piper"
# OpenAI's voice names: clients written for OpenAI send them; they speak in tts.voice.
OPENAI_VOICES = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"}
)
# Share of the progress bar synthesis takes; encoding takes the rest.
SYNTHESIS_SHARE = 90.0


class TTSParams(BaseModel):
    """What to say, in which voice, how fast, and in which audio format."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=4_096, description="Text to speak.")
    voice: str | None = Field(
        default=None, max_length=64, description="Voice name; empty: the configured default."
    )
    speed: float = Field(default=1.0, ge=0.25, le=4.0, description="1.0 normal, 2.0 twice as fast.")
    format: Literal["wav", "mp3", "ogg", "opus", "flac", "aac", "pcm"] = Field(
        default="wav",
        description="Audio format of speech.<ext>: ogg and opus are both Opus in Ogg, "
        "aac is ADTS, pcm is raw 16-bit little-endian mono.",
    )


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, TTSParams)
    import numpy as np

    from visiovox.engines.tts.base import TTSEngine
    from visiovox.media.audio import (
        AUDIO_CONTENT_TYPES,
        AUDIO_EXTENSIONS,
        AudioFormat,
        encode_audio,
    )

    ctx.stage("synthesize")
    engine = ctx.engine(ENGINE, TTSEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
    max_chars = engine.settings.tts.max_chars
    if len(params.text) > max_chars:
        raise PipelineError(
            "text_too_long", f"text is {len(params.text)} characters, over {max_chars}"
        )
    voice = params.voice or engine.settings.tts.voice
    pieces = []
    spoken_chars = 0
    ctx.check_cancelled()
    for index, chunk in enumerate(engine.synthesize(params.text, voice=voice, speed=params.speed)):
        pieces.append(chunk.samples)
        spoken_chars += len(chunk.text)
        share = min(1.0, spoken_chars / len(params.text))
        ctx.progress(SYNTHESIS_SHARE * share, stage="synthesize", message=f"sentence {index + 1}")
        ctx.check_cancelled()
    if not pieces:
        raise PipelineError("nothing_to_say", "the text holds nothing that can be spoken")

    ctx.stage("encode")
    samples = np.concatenate(pieces)
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
        "sentences": len(pieces),
    }


SPEC = PipelineSpec(
    name="tts",
    summary="Text to speech with Piper: speech.<format> (wav, mp3, ogg/opus, flac, aac, pcm).",
    params=TTSParams,
    run=run,
    engines=(ENGINE,),
)
