"""The face enhancement's work: restore the faces of an image, or of every frame of a video."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.detect_scrfd import preferred_detector
from visiovox.engines.face.enhance_base import FaceEnhancer
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.tracker import FaceTracker
from visiovox.engines.face.types import Face, Image
from visiovox.errors import PipelineError
from visiovox.media.errors import MediaError
from visiovox.media.image import IMAGE_CONTENT_TYPES, output_extension, read_image, write_image
from visiovox.media.video import VIDEO_FORMATS, map_video
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.face_enhance.choices import ENHANCERS
from visiovox.pipelines.face_enhance.spec import FaceEnhanceParams
from visiovox.pipelines.face_swap.spec import LANDMARKS

IMAGE_EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}
# Progress after detection; restoring the faces takes it to ENHANCE_DONE, encoding to 100.
DETECT_DONE, ENHANCE_DONE = 10.0, 95.0


class _Restorer:
    """The loaded engines and the job's choices."""

    def __init__(self, ctx: RunContext, params: FaceEnhanceParams) -> None:
        self.params = params
        self.settings = ctx.settings
        # The model first: a missing one fails the job before any other work.
        self.enhancer = ctx.engine(ENHANCERS[params.enhancer], FaceEnhancer)
        self.detector = ctx.engine(preferred_detector(self.settings), FaceDetector)
        self.landmarker = ctx.engine(LANDMARKS, FaceLandmarker)
        self.min_score = self.settings.face.hog_min_score

    def image_faces(self, picture: Image) -> list[Face]:
        """The faces of a still to restore (no_face_found when there are none)."""
        if self.params.mode == "largest":
            largest = self.detector.largest(picture, min_score=self.min_score)
            boxes = [] if largest is None else [largest]
        else:
            boxes = self.detector.detect(picture, min_score=self.min_score)
        if not boxes:
            raise PipelineError("no_face_found", "the target image has no face")
        return [self.landmarker.landmarks(picture, box) for box in boxes]

    def tracker(self) -> FaceTracker:
        face = self.settings.face
        return FaceTracker(
            self.detector,
            self.landmarker,
            detect_every=face.detect_every,
            min_confidence=face.track_min_confidence,
            max_faces=1 if self.params.mode == "largest" else None,
            min_score=self.min_score,
        )

    def restore(self, picture: Image, face: Face) -> Image:
        return self.enhancer.enhance(
            picture, face, blend=self.params.blend, fidelity=self.params.fidelity
        )


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, FaceEnhanceParams)
    ctx.stage("detect")
    restorer = _Restorer(ctx, params)
    ctx.check_cancelled()
    target = ctx.input("target")
    if target is not None and target.content_type.startswith("video/"):
        return _enhance_video(ctx, restorer)
    return _enhance_image(ctx, restorer, target_name=target.name if target else "target.png")


def _enhance_image(ctx: RunContext, restorer: _Restorer, *, target_name: str) -> dict[str, Any]:
    try:
        result = read_image(
            ctx.input_path("target"), max_pixels=restorer.settings.uploads.max_pixels
        )
    except MediaError as exc:
        raise PipelineError(exc.code, f"target: {exc.message}") from exc
    faces = restorer.image_faces(result)
    ctx.progress(DETECT_DONE, stage="detect", message=f"{len(faces)} face(s) in target")

    ctx.stage("enhance")
    for index, face in enumerate(faces):
        ctx.check_cancelled()
        result = restorer.restore(result, face)
        done = DETECT_DONE + (ENHANCE_DONE - DETECT_DONE) * (index + 1) / len(faces)
        ctx.progress(done, stage="enhance", message=f"face {index + 1} of {len(faces)}")

    ctx.stage("encode")
    wanted = restorer.params.image_format
    ext = output_extension(target_name) if wanted == "same" else IMAGE_EXTENSIONS[wanted]
    name = f"enhanced.{ext}"
    write_image(ctx.output_path(name), result)
    ctx.add_output(name, IMAGE_CONTENT_TYPES[ext])
    ctx.progress(100.0, stage="encode")
    height, width = result.shape[:2]
    return {"faces": len(faces), "width": width, "height": height}


def _enhance_video(ctx: RunContext, restorer: _Restorer) -> dict[str, Any]:
    ctx.stage("enhance")
    tracker = restorer.tracker()
    enhanced_frames = 0

    def transform(_index: int, frame: Image) -> Image:
        nonlocal enhanced_frames
        ctx.check_cancelled()
        faces = tracker.faces(frame)
        enhanced_frames += bool(faces)
        for face in faces:
            frame = restorer.restore(frame, face)
        return frame

    def progress(done: int, total: int | None) -> None:
        share = min(1.0, done / total) if total else 0.0
        percent = DETECT_DONE + (ENHANCE_DONE - DETECT_DONE) * share
        ctx.progress(percent, stage="enhance", message=f"frame {done}")

    params = restorer.params
    fmt = VIDEO_FORMATS[params.video_format]
    name = f"enhanced.{fmt.extension}"
    path = ctx.output_path(name)
    caps = restorer.settings.video
    try:
        written = map_video(
            ctx.input_path("target"),
            path,
            transform=transform,
            progress=progress,
            keep_audio=params.keep_audio,
            output_format=params.video_format,
            max_frames=caps.max_frames,
            max_pixels=caps.max_pixels,
        )
    except MediaError as exc:
        path.unlink(missing_ok=True)
        raise PipelineError(exc.code, exc.message) from exc
    ctx.add_output(name, fmt.content_type)
    ctx.progress(100.0, stage="enhance")
    return {
        "frames": written.frames,
        "frames_enhanced": enhanced_frames,
        "detections": tracker.detections,
        "duration_s": written.duration_s,
        "width": written.width,
        "height": written.height,
        "audio": written.audio,
    }
