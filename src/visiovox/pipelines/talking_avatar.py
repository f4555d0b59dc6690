"""Talking avatar: text (spoken by the TTS engine) or audio, plus a portrait → an MP4.

Without an ``image`` the bundled default portrait speaks. The portrait is
scaled so its longer side is ``size``, its face found and rigged once, and
every frame is that picture with the mouth moved to the speech.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from visiovox.errors import PipelineError
from visiovox.media.kinds import MediaKind
from visiovox.media.speakable import speakable_text
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.lipsync_render import (
    ANALYSIS_DONE,
    DETECT,
    ENGINE_HELP,
    LANDMARKS,
    MOUTH_WARP,
    SPEECH_DONE,
    VAD,
    EngineChoice,
    Speech,
    StageClock,
    decode_speech,
    find_face,
    frame_count,
    lipsync_engine,
    no_face,
    render_video,
)
from visiovox.pipelines.spec import InputSpec, PipelineSpec

if TYPE_CHECKING:
    from visiovox.engines.face.types import Face, Image

TTS = "tts.piper"


class TalkingAvatarParams(BaseModel):
    """What to say (or the ``audio`` upload), in which voice, and the video's shape."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str | None = Field(
        default=None, max_length=4_096, description="Text to speak; leave out to send audio."
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


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, TalkingAvatarParams)
    clock = StageClock(seconds={})
    clock.start(ctx, "speech")
    speech = _speech(ctx, params)
    ctx.progress(SPEECH_DONE, stage="speech", message=f"{speech.duration_s:.1f} s of speech")
    ctx.check_cancelled()

    clock.start(ctx, "analysis")
    engine = lipsync_engine(ctx, params.engine)
    picture, face = _portrait(ctx, params.size, max_pixels=engine.settings.uploads.max_pixels)
    frames = frame_count(speech, params.fps)
    driver = engine.driver(speech.analysis, fps=params.fps, frames=frames)
    ctx.progress(ANALYSIS_DONE, stage="analysis")

    result = render_video(
        ctx,
        clock=clock,
        driver=driver,
        speech=speech,
        fps=params.fps,
        frames=frames,
        picture=lambda _index: (picture, face),
    )
    return {**result, "engine": engine.name}


def _speech(ctx: RunContext, params: TalkingAvatarParams) -> Speech:
    has_audio = ctx.input("audio") is not None
    if has_audio and params.text:
        raise PipelineError("conflicting_inputs", "send text or audio, not both")
    if has_audio:
        return decode_speech(ctx, "audio")
    if not params.text:
        raise PipelineError("missing_speech", "send text to speak or an audio file")
    return _synthesize(ctx, params, params.text)


def _synthesize(ctx: RunContext, params: TalkingAvatarParams, text: str) -> Speech:
    from visiovox.engines.lipsync.base import SPEECH_RATE
    from visiovox.engines.tts.base import TTSEngine
    from visiovox.media.resample import resample
    from visiovox.pipelines.synthesis import speak_text

    tts = ctx.engine(TTS, TTSEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
    track, _sentences = speak_text(
        ctx,
        engine=tts,
        text=text,
        voice=params.voice,
        speed=params.speed,
        on_progress=lambda share, _sentence: ctx.progress(SPEECH_DONE * share, stage="speech"),
    )
    analysis = resample(track, rate=tts.sample_rate, to=SPEECH_RATE)
    return Speech(analysis=analysis, track=track, track_rate=tts.sample_rate)


def _portrait(ctx: RunContext, size: int, *, max_pixels: int) -> tuple[Image, Face]:
    from visiovox.assets import default_avatar
    from visiovox.media.errors import MediaError
    from visiovox.media.image import read_image
    from visiovox.media.video_frames import fit_frame, output_size

    path = ctx.input_path("image") if ctx.input("image") is not None else default_avatar()
    try:
        picture = read_image(path, max_pixels=max_pixels)
    except MediaError as exc:
        raise PipelineError(exc.code, f"image: {exc.message}") from exc
    height, width = picture.shape[:2]
    picture = fit_frame(picture, output_size(width, height, size))
    face = find_face(ctx, picture)
    if face is None:
        raise no_face("the image")
    return picture, face


SPEC = PipelineSpec(
    name="talking-avatar",
    summary="Talking avatar: text (TTS) or audio plus a portrait → video.mp4 (H.264 + AAC).",
    params=TalkingAvatarParams,
    run="visiovox.pipelines.talking_avatar:run",
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
