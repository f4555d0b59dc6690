"""Speech to text: an audio or video upload in, ``transcript.json`` (+ txt/srt/vtt) out."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from visiovox.media.kinds import MediaKind
from visiovox.pipelines.spec import InputSpec, PipelineSpec

ENGINE = "stt.whisper"
INPUT = "file"


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


SPEC = PipelineSpec(
    name="stt",
    summary="Speech to text with Whisper: transcript.json, plus text, SRT or WebVTT.",
    params=STTParams,
    run="visiovox.pipelines.stt.run:run",
    inputs=(
        InputSpec(
            field=INPUT,
            kinds=frozenset({MediaKind.AUDIO, MediaKind.VIDEO}),
            description="Audio, or a video whose first audio track is transcribed.",
        ),
    ),
    engines=(ENGINE,),
    interactive=True,
)
