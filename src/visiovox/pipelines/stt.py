"""Speech to text: an audio or video upload in, ``transcript.json`` (+ txt/srt/vtt) out.

Module-level imports stay light (the gateway imports this for ``SPEC``); the
decoder and the engine are imported inside ``run``.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from visiovox.errors import PipelineError
from visiovox.media.kinds import MediaKind
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.spec import InputSpec, PipelineSpec

ENGINE = "stt.whisper"
INPUT = "file"
# Progress shares: decoding is quick, transcription is the bulk, writing is instant.
DECODE_DONE, TRANSCRIBE_DONE = 5.0, 98.0

# format -> (file extension, content type) of the extra transcript file.
TRANSCRIPT_FILES: dict[str, tuple[str, str]] = {
    "text": ("txt", "text/plain; charset=utf-8"),
    "srt": ("srt", "application/x-subrip"),
    "vtt": ("vtt", "text/vtt"),
}


class STTParams(BaseModel):
    """Which language is spoken, which transcript file to add, and word timing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2,3}$",
        description="ISO 639-1 code such as 'en'; empty or 'auto': detect.",
    )
    format: Literal["json", "text", "srt", "vtt"] = Field(
        default="json",
        description="transcript.json is always written; text/srt/vtt add transcript.<ext>.",
    )
    word_timestamps: bool = Field(default=False, description="Time every word in the JSON.")

    @field_validator("language", mode="before")
    @classmethod
    def _auto_is_none(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            return None if value in ("", "auto") else value
        return value


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, STTParams)
    from visiovox.engines.stt.base import SAMPLE_RATE, Segment, STTEngine
    from visiovox.media.audio import decode_audio
    from visiovox.media.errors import MediaError
    from visiovox.media.subtitles import to_srt, to_text, to_vtt

    ctx.stage("decode")
    try:
        audio = decode_audio(ctx.input_path(INPUT), sample_rate=SAMPLE_RATE)
    except MediaError as exc:
        raise PipelineError(exc.code, exc.message) from exc
    duration_s = len(audio) / SAMPLE_RATE
    ctx.progress(DECODE_DONE, stage="decode")
    ctx.check_cancelled()

    ctx.stage("transcribe")
    engine = ctx.engine(ENGINE, STTEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
    ctx.check_cancelled()

    def on_segment(segment: Segment, end_s: float) -> None:
        done = end_s / duration_s if duration_s else 1.0
        share = DECODE_DONE + (TRANSCRIBE_DONE - DECODE_DONE) * min(1.0, done)
        ctx.progress(share, stage="transcribe", message=segment.text[:120])
        ctx.check_cancelled()

    transcript = engine.transcribe(
        audio,
        language=params.language,
        word_timestamps=params.word_timestamps,
        on_segment=on_segment,
    )

    ctx.stage("write")
    body = {
        "text": transcript.text,
        "language": transcript.language,
        "duration_s": transcript.duration_s,
        "segments": transcript.to_json()["segments"],
    }
    ctx.output_path("transcript.json").write_text(
        json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    ctx.add_output("transcript.json", "application/json")
    if params.format in TRANSCRIPT_FILES:
        extension, content_type = TRANSCRIPT_FILES[params.format]
        writer = {"text": to_text, "srt": to_srt, "vtt": to_vtt}[params.format]
        name = f"transcript.{extension}"
        ctx.output_path(name).write_text(writer(transcript.segments), encoding="utf-8")
        ctx.add_output(name, content_type)
    ctx.progress(100.0, stage="write")
    return {
        "text": transcript.text,
        "language": transcript.language,
        "duration_s": transcript.duration_s,
    }


SPEC = PipelineSpec(
    name="stt",
    summary="Speech to text with Whisper: transcript.json, plus text, SRT or WebVTT.",
    params=STTParams,
    run="visiovox.pipelines.stt:run",
    inputs=(
        InputSpec(
            field=INPUT,
            kinds=frozenset({MediaKind.AUDIO, MediaKind.VIDEO}),
            description="Audio, or a video whose first audio track is transcribed.",
        ),
    ),
    engines=(ENGINE,),
)
