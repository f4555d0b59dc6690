"""Talking avatar: text (spoken by the TTS engine) or audio, plus a portrait → an MP4.

Without an ``image`` the bundled default portrait speaks. The portrait is
scaled so its longer side is ``size``, its face found and rigged once, and
every frame is that picture with the mouth moved to the speech.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from visiovox.config import SPEECH_MAX_CHARS
from visiovox.media.kinds import MediaKind
from visiovox.media.speakable import speakable_text
from visiovox.pipelines.lip_sync.spec import (
    DETECT,
    ENGINE_HELP,
    LANDMARKS,
    MOUTH_WARP,
    VAD,
    EngineChoice,
)
from visiovox.pipelines.spec import InputSpec, PipelineSpec

TTS = "tts.piper"


class TalkingAvatarParams(BaseModel):
    """What to say (or the ``audio`` upload), in which voice, and the video's shape."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str | None = Field(
        default=None,
        max_length=SPEECH_MAX_CHARS,
        description="Text to speak; leave out to send audio.",
    )
    voice: str | None = Field(
        default=None, max_length=64, description="TTS voice; empty: the configured default."
    )
    speed: float = Field(default=1.0, ge=0.25, le=4.0, description="Speech speed, 1.0 normal.")
    fps: int = Field(default=25, ge=5, le=60, description="Frames per second of the video.")
    size: int = Field(
        default=512, ge=128, le=1920, description="Longer side of the video in pixels."
    )
    engine: EngineChoice = Field(default="auto", description=ENGINE_HELP)

    @field_validator("text", "voice")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("text")
    @classmethod
    def _speakable(cls, text: str | None) -> str | None:
        return speakable_text(text) if text is not None else None


SPEC = PipelineSpec(
    name="talking-avatar",
    summary="Talking avatar: text (TTS) or audio plus a portrait → video.mp4 (H.264 + AAC).",
    params=TalkingAvatarParams,
    run="visiovox.pipelines.talking_avatar.run:run",
    inputs=(
        InputSpec(
            "audio",
            frozenset({MediaKind.AUDIO}),
            required=False,
            description="Speech to lip-sync, instead of text.",
            required_when=("text", None),
        ),
        InputSpec(
            "image",
            frozenset({MediaKind.IMAGE}),
            required=False,
            description="Portrait with one face; the bundled avatar when left out.",
        ),
    ),
    engines=(TTS, VAD, DETECT, LANDMARKS, MOUTH_WARP),
)
