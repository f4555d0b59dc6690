"""One edit applied to the faces of an image, or of every frame of a video.

``face-swap`` and ``face-enhance`` differ only in what they do to a face; the
rest is shared here: finding a still's faces (``image_faces``), progress
(detection to ``DETECT_DONE``, the edit to ``EDIT_DONE``, encoding to 100), the
output's name and format, and the result. A video in which no frame had a face
fails ``no_face_found``, as a still without one does. A segment of a long
video split across the fleet (``pipelines/segmented.py``) edits its own frames
only, its tracker warmed on the frames just before them, and leaves the
verdict on faces to the stitch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from visiovox.config_storage import VideoSettings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.tracker import FaceTracker
from visiovox.engines.face.types import Face, Image
from visiovox.errors import PipelineError
from visiovox.media.errors import MediaError
from visiovox.media.image import IMAGE_CONTENT_TYPES, output_extension, write_image
from visiovox.media.video import VIDEO_FORMATS, VideoResult, map_video
from visiovox.media.video_cuts import Span
from visiovox.media.video_segments import map_segment
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.segmented import segment_name, segment_span

IMAGE_EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}
DETECT_DONE, EDIT_DONE = 10.0, 95.0

FaceApply = Callable[[Image, Face], Image]


@dataclass(frozen=True)
class EditOutput:
    """How the edited file is named and written: ``done`` names it (``swapped.png``) and
    its result count (``frames_swapped``); ``stage`` is the progress stage of the edit."""

    stage: str
    done: str
    image_format: str
    video_format: str
    keep_audio: bool


def image_faces(
    picture: Image,
    *,
    detector: FaceDetector,
    landmarker: FaceLandmarker,
    largest_only: bool,
    min_score: float,
) -> list[Face]:
    """The faces of a still, with their landmarks (no_face_found when there are none)."""
    if largest_only:
        largest = detector.largest(picture, min_score=min_score)
        boxes = [] if largest is None else [largest]
    else:
        boxes = detector.detect(picture, min_score=min_score)
    if not boxes:
        raise PipelineError("no_face_found", "the target image has no face")
    return [landmarker.landmarks(picture, box) for box in boxes]


def edit_image(
    ctx: RunContext,
    picture: Image,
    faces: list[Face],
    apply: FaceApply,
    *,
    output: EditOutput,
    target_name: str,
) -> dict[str, Any]:
    """Apply the edit to each face of ``picture`` and write the result."""
    ctx.progress(DETECT_DONE, stage="detect", message=f"{len(faces)} face(s) in target")
    ctx.stage(output.stage)
    for index, face in enumerate(faces):
        ctx.check_cancelled()
        picture = apply(picture, face)
        done = DETECT_DONE + (EDIT_DONE - DETECT_DONE) * (index + 1) / len(faces)
        ctx.progress(done, stage=output.stage, message=f"face {index + 1} of {len(faces)}")

    ctx.stage("encode")
    wanted = output.image_format
    ext = output_extension(target_name) if wanted == "same" else IMAGE_EXTENSIONS[wanted]
    name = f"{output.done}.{ext}"
    write_image(ctx.output_path(name), picture)
    ctx.add_output(name, IMAGE_CONTENT_TYPES[ext])
    ctx.progress(100.0, stage="encode")
    height, width = picture.shape[:2]
    return {"faces": len(faces), "width": width, "height": height}


def edit_video(
    ctx: RunContext,
    tracker: FaceTracker,
    apply: FaceApply,
    *,
    output: EditOutput,
    caps: VideoSettings,
) -> dict[str, Any]:
    """Apply the edit to the tracked faces of every frame of the ``target`` video."""
    ctx.stage(output.stage)
    edited_frames = 0

    def transform(_index: int, frame: Image) -> Image:
        nonlocal edited_frames
        ctx.check_cancelled()
        faces = tracker.faces(frame)
        edited_frames += bool(faces)
        for face in faces:
            frame = apply(frame, face)
        return frame

    def progress(done: int, total: int | None) -> None:
        share = min(1.0, done / total) if total else 0.0
        percent = DETECT_DONE + (EDIT_DONE - DETECT_DONE) * share
        ctx.progress(percent, stage=output.stage, message=f"frame {done}")

    fmt = VIDEO_FORMATS[output.video_format]
    span = segment_span(ctx)
    name = f"{output.done}.{fmt.extension}" if span is None else segment_name(output.video_format)
    path = ctx.output_path(name)
    try:
        if span is None:
            written = map_video(
                ctx.input_path("target"),
                path,
                transform=transform,
                progress=progress,
                keep_audio=output.keep_audio,
                output_format=output.video_format,
                max_frames=caps.max_frames,
                max_pixels=caps.max_pixels,
            )
        else:
            written = _edit_segment(ctx, span, tracker, transform, output=output, caps=caps)
    except MediaError as exc:
        path.unlink(missing_ok=True)
        raise PipelineError(exc.code, exc.message) from exc
    if edited_frames == 0 and span is None:
        path.unlink(missing_ok=True)
        raise PipelineError("no_face_found", "no frame of the target video has a face")
    ctx.add_output(name, fmt.content_type)
    ctx.progress(100.0, stage=output.stage)
    return {
        "frames": written.frames,
        f"frames_{output.done}": edited_frames,
        "detections": tracker.detections,
        "duration_s": written.duration_s,
        "width": written.width,
        "height": written.height,
        "audio": written.audio,
    }


def _edit_segment(
    ctx: RunContext,
    span: Span,
    tracker: FaceTracker,
    transform: Callable[[int, Image], Image],
    *,
    output: EditOutput,
    caps: VideoSettings,
) -> VideoResult:
    """Edit one segment's frames into its segment file; progress goes to the parent."""
    work = ctx.segments()

    def warm(frame: Image) -> None:
        ctx.check_cancelled()
        tracker.faces(frame)

    def progress(done: int, _total: int | None) -> None:
        if work is not None:
            work.report(done)

    return map_segment(
        ctx.input_path("target"),
        ctx.output_path(segment_name(output.video_format)),
        span=span,
        transform=transform,
        warm=warm,
        progress=progress,
        output_format=output.video_format,
        max_pixels=caps.max_pixels,
    )
