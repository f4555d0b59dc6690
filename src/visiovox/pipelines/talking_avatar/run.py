"""The talking avatar's work: speak the text (or take the audio), move the portrait's mouth."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from visiovox.assets import default_avatar
from visiovox.engines.face.types import Face, Image
from visiovox.engines.lipsync.base import SPEECH_RATE
from visiovox.engines.tts.base import TTSEngine
from visiovox.errors import PipelineError
from visiovox.media.errors import MediaError
from visiovox.media.image import read_image
from visiovox.media.resample import resample
from visiovox.media.video_frames import fit_frame, output_size
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.lip_sync.render import (
    ANALYSIS_DONE,
    SPEECH_DONE,
    Speech,
    StageClock,
    decode_speech,
    find_face,
    frame_count,
    lipsync_engine,
    no_face,
    render_video,
)
from visiovox.pipelines.synthesis import speak_text
from visiovox.pipelines.talking_avatar.spec import TTS, TalkingAvatarParams


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, TalkingAvatarParams)
    clock = StageClock(seconds={})
    clock.start(ctx, "speech")
    speech = _speech(ctx, params)
    ctx.progress(SPEECH_DONE, stage="speech", message=f"{speech.duration_s:.1f} s of speech")
    ctx.check_cancelled()

    clock.start(ctx, "analysis")
    engine = lipsync_engine(ctx, params.engine)
    picture, face = _portrait(ctx, params.size, max_pixels=ctx.settings.uploads.max_pixels)
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
        picture=lambda _index: (picture, face, None),
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
