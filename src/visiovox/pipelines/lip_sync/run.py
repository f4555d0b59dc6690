"""The lip-sync's work: find the faces of the image or video, re-time them, move the mouths.

An output longer than ``fleet.segment_s`` is rendered by segment jobs across
the fleet (``pipelines/lip_sync/segments.py``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from visiovox.engines.face.types import Face, Image
from visiovox.engines.lipsync.face_box import CropBox, crop_boxes
from visiovox.errors import PipelineError
from visiovox.media.errors import MediaError
from visiovox.media.image import read_image
from visiovox.media.video_frames import fit_frame, output_size, read_frames
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.lip_sync.render import (
    ANALYSIS_DONE,
    SPEECH_DONE,
    StageClock,
    decode_speech,
    faces_of,
    frame_count,
    lipsync_engine,
    no_face,
    render_video,
)
from visiovox.pipelines.lip_sync.segments import (
    render_span,
    shared_analysis,
    split_if_long,
    stitch,
)
from visiovox.pipelines.lip_sync.spec import LipSyncParams

# Decoded frames a job may hold to loop a video (a 1080p frame is 6 MiB).
MAX_HELD_BYTES = 1 << 30


def source_index(index: int, *, count: int, retime: str) -> int:
    """The source frame shown at output frame ``index`` of a ``count``-frame video."""
    if count == 1:
        return 0
    if retime == "loop":
        return index % count
    period = 2 * count - 2
    position = index % period
    return position if position < count else period - position


def steady_faces(faces: list[Face | None]) -> list[Face | None]:
    """Landmarks averaged with the neighbouring frames' (1-2-1), so the mouth does not jitter.

    A neighbour counts only if it has a face whose box centre is within a tenth
    of the box's width: a cut or a second person is never blended in.
    """
    steady: list[Face | None] = []
    for index, face in enumerate(faces):
        if face is None:
            steady.append(None)
            continue
        total, weight = face.points * 2.0, 2.0
        for near in (index - 1, index + 1):
            other = faces[near] if 0 <= near < len(faces) else None
            if other is not None and _same_place(face, other):
                total, weight = total + other.points, weight + 1.0
        steady.append(Face(box=face.box, points=(total / weight).astype(face.points.dtype)))
    return steady


def _same_place(a: Face, b: Face) -> bool:
    centre_a = ((a.box.left + a.box.right) / 2, (a.box.top + a.box.bottom) / 2)
    centre_b = ((b.box.left + b.box.right) / 2, (b.box.top + b.box.bottom) / 2)
    limit = 0.1 * (a.box.right - a.box.left)
    return abs(centre_a[0] - centre_b[0]) <= limit and abs(centre_a[1] - centre_b[1]) <= limit


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, LipSyncParams)
    work = ctx.segments()
    if work is not None and work.role.children:
        return stitch(ctx, work)
    span = render_span(work)
    clock = StageClock(seconds={})
    clock.start(ctx, "speech")
    speech = decode_speech(ctx, "audio")
    ctx.progress(SPEECH_DONE, stage="speech", message=f"{speech.duration_s:.1f} s of audio")
    ctx.check_cancelled()

    clock.start(ctx, "analysis")
    engine = lipsync_engine(ctx, params.engine)
    pictures, fps = _pictures(ctx, params, max_pixels=ctx.settings.uploads.max_pixels)
    if work is not None and span is not None:
        # A segment renders with the faces its parent found once for all of them.
        faces, crops = shared_analysis(work)
    else:
        faces = steady_faces(faces_of(ctx, pictures))
        if not any(face is not None for face in faces):
            raise no_face("the face image" if len(pictures) == 1 else "no frame of the face video")
        height, width = pictures[0].shape[:2]
        # Wav2Lip's boxes, smoothed over the source frames as its inference.py does.
        crops = crop_boxes(faces, width=width, height=height)
    frames = frame_count(speech, fps)
    if work is not None and work.role.can_split:
        split_if_long(ctx, work, frames=frames, fps=fps, faces=faces, crops=crops)
    driver = engine.driver(speech.analysis, fps=fps, frames=frames)
    ctx.progress(ANALYSIS_DONE, stage="analysis", message=f"{len(pictures)} source frame(s)")

    def picture(index: int) -> tuple[Image, Face | None, CropBox | None]:
        source = source_index(index, count=len(pictures), retime=params.retime)
        return pictures[source], faces[source], crops[source]

    result = render_video(
        ctx,
        clock=clock,
        driver=driver,
        speech=speech,
        fps=fps,
        frames=frames,
        picture=picture,
        span=span,
    )
    return {
        **result,
        "engine": engine.name,
        "source_frames": len(pictures),
        "source_frames_with_face": sum(face is not None for face in faces),
    }


def _pictures(
    ctx: RunContext, params: LipSyncParams, *, max_pixels: int
) -> tuple[list[Image], float]:
    face_input = ctx.input("face")
    try:
        if face_input is not None and face_input.content_type.startswith("video/"):
            held = read_frames(
                ctx.input_path("face"),
                max_side=params.size,
                max_bytes=MAX_HELD_BYTES,
                max_pixels=max_pixels,
            )
            return held.frames, held.fps
        image = read_image(ctx.input_path("face"), max_pixels=max_pixels)
    except MediaError as exc:
        raise PipelineError(exc.code, f"face: {exc.message}") from exc
    height, width = image.shape[:2]
    return [fit_frame(image, output_size(width, height, params.size))], float(params.fps)
