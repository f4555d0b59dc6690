"""One edit applied to the faces of an image, or of every frame of a video.

``face-swap`` and ``face-enhance`` differ only in what they do to a face; the
rest is shared here: finding a still's faces (``image_faces``), progress
(detection to ``DETECT_DONE``, the edit to ``EDIT_DONE``, encoding to 100), the
output's name and format, and the result. A video in which no frame had a face
fails ``no_face_found``, as a still without one does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from visiovox.config import VideoSettings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.tracker import FaceTracker
from visiovox.engines.face.types import Face, Image
from visiovox.errors import PipelineError
from visiovox.media.errors import MediaError
from visiovox.media.image import IMAGE_CONTENT_TYPES, output_extension, write_image
from visiovox.media.video import VIDEO_FORMATS, map_video
from visiovox.pipelines.context import RunContext

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
    name = f"{output.done}.{fmt.extension}"
    path = ctx.output_path(name)
    try:
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
    except MediaError as exc:
        path.unlink(missing_ok=True)
        raise PipelineError(exc.code, exc.message) from exc
    if edited_frames == 0:
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
