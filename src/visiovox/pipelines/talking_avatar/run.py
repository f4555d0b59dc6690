"""The talking avatar's work: speak the text (or take the audio), move the portrait's mouth.

From text, ``mouth_warp`` shapes the mouth by the phonemes Piper spoke (their
viseme timeline: lips shut on p/b/m, rounded on o/u; docs/benchmarks.md,
"Visemes"); from uploaded audio, by its energy. The result's ``mouth`` says which.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from visiovox.assets import default_avatar
from visiovox.engines.face.types import Face, Image
from visiovox.engines.lipsync.base import SPEECH_RATE
from visiovox.engines.lipsync.mouth_warp import MouthWarp
from visiovox.engines.tts.base import SpeechChunk, TTSEngine
from visiovox.engines.visemes.speech import has_phonemes, speech_timeline
from visiovox.engines.visemes.timeline import VisemeTimeline
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
    speech, visemes = _speech(ctx, params)
    ctx.progress(SPEECH_DONE, stage="speech", message=f"{speech.duration_s:.1f} s of speech")
    ctx.check_cancelled()

    clock.start(ctx, "analysis")
    engine = lipsync_engine(ctx, params.engine)
    picture, face = _portrait(ctx, params.size, max_pixels=ctx.settings.uploads.max_pixels)
    frames = frame_count(speech, params.fps)
    if isinstance(engine, MouthWarp) and visemes is not None:
        driver = engine.driver(speech.analysis, fps=params.fps, frames=frames, visemes=visemes)
        mouth = "visemes"
    else:
        driver = engine.driver(speech.analysis, fps=params.fps, frames=frames)
        mouth = "energy"
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
    return {**result, "engine": engine.name, "mouth": mouth}


def _speech(ctx: RunContext, params: TalkingAvatarParams) -> tuple[Speech, VisemeTimeline | None]:
    """The speech, and its viseme timeline when Piper spoke it."""
    has_audio = ctx.input("audio") is not None
    if has_audio and params.text:
        raise PipelineError("conflicting_inputs", "send text or audio, not both")
    if has_audio:
        return decode_speech(ctx, "audio"), None
    if not params.text:
        raise PipelineError("missing_speech", "send text to speak or an audio file")
    return _synthesize(ctx, params, params.text)


def _synthesize(
    ctx: RunContext, params: TalkingAvatarParams, text: str
) -> tuple[Speech, VisemeTimeline | None]:
    tts = ctx.engine(TTS, TTSEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
    chunks: list[SpeechChunk] = []
    track, _sentences = speak_text(
        ctx,
        engine=tts,
        text=text,
        voice=params.voice,
        speed=params.speed,
        on_progress=lambda share, _sentence: ctx.progress(SPEECH_DONE * share, stage="speech"),
        on_chunk=chunks.append,
    )
    analysis = resample(track, rate=tts.sample_rate, to=SPEECH_RATE)
    visemes = speech_timeline(chunks) if has_phonemes(chunks) else None
    return Speech(analysis=analysis, track=track, track_rate=tts.sample_rate), visemes


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
