"""The face swap's work: prepare the source face once, swap the faces of the image or video."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.detect_scrfd import preferred_detector
from visiovox.engines.face.embed import FaceEmbedder
from visiovox.engines.face.enhance_base import FaceEnhancer
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.swap_base import FaceSwapEngine
from visiovox.engines.face.tracker import FaceTracker
from visiovox.engines.face.types import Face, Image
from visiovox.errors import PipelineError
from visiovox.media.errors import MediaError
from visiovox.media.image import IMAGE_CONTENT_TYPES, output_extension, read_image, write_image
from visiovox.media.video import VIDEO_FORMATS, map_video
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.face_enhance.choices import ENHANCERS
from visiovox.pipelines.face_swap.spec import EMBED, LANDMARKS, SWAP_ENGINES, FaceSwapParams

IMAGE_EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}
# Progress after detection; swapping the faces takes it to SWAP_DONE, encoding to 100.
DETECT_DONE, SWAP_DONE = 10.0, 95.0


class _Swapper:
    """The loaded engines, the prepared source face and the reference identity."""

    def __init__(self, ctx: RunContext, params: FaceSwapParams) -> None:
        self.landmarker = ctx.engine(LANDMARKS, FaceLandmarker)
        self.settings = ctx.settings
        self.detector = ctx.engine(preferred_detector(self.settings), FaceDetector)
        self.engine = ctx.engine(SWAP_ENGINES[params.engine], FaceSwapEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
        self.params = params
        self.enhancer = (
            ctx.engine(ENHANCERS[params.enhance], FaceEnhancer)
            if params.enhance != "none"
            else None
        )
        self.min_score = self.settings.face.hog_min_score
        source = self.read(ctx, "source")
        self.prepared = self.engine.prepare(source, self._first_face(source, "source"))
        self.reference: npt.NDArray[np.float32] | None = None
        self.threshold = params.reference_threshold or self.settings.face.reference_threshold
        if params.mode == "reference":
            self._load_reference(ctx)

    def read(self, ctx: RunContext, field: str) -> Image:
        """The image upload ``field``; one that cannot be read fails the job with its media code."""
        try:
            return read_image(ctx.input_path(field), max_pixels=self.settings.uploads.max_pixels)
        except MediaError as exc:
            raise PipelineError(exc.code, f"{field}: {exc.message}") from exc

    def _first_face(self, picture: Image, role: str) -> Face:
        box = self.detector.largest(picture, min_score=self.min_score)
        if box is None:
            raise PipelineError("no_face_found", f"the {role} image has no face")
        return self.landmarker.landmarks(picture, box)

    def _load_reference(self, ctx: RunContext) -> None:
        if ctx.input("reference") is None:
            raise PipelineError("missing_input", "mode=reference needs a reference image")
        self.embedder = ctx.engine(EMBED, FaceEmbedder)
        picture = self.read(ctx, "reference")
        self.reference = self.embedder.embed(picture, self._first_face(picture, "reference"))

    def distance(self, picture: Image, face: Face) -> float:
        """dlib embedding distance of ``face`` to the reference face."""
        assert self.reference is not None
        return float(np.linalg.norm(self.embedder.embed(picture, face) - self.reference))

    def matches(self, picture: Image, face: Face) -> bool:
        return self.distance(picture, face) <= self.threshold

    def image_faces(self, picture: Image) -> list[Face]:
        """The faces of a still to replace (no_face_found when there are none)."""
        if self.params.mode == "largest":
            largest = self.detector.largest(picture, min_score=self.min_score)
            boxes = [] if largest is None else [largest]
        else:
            boxes = self.detector.detect(picture, min_score=self.min_score)
        if not boxes:
            raise PipelineError("no_face_found", "the target image has no face")
        faces = [self.landmarker.landmarks(picture, box) for box in boxes]
        if self.reference is None:
            return faces
        distances = [self.distance(picture, face) for face in faces]
        chosen = [face for face, d in zip(faces, distances, strict=True) if d <= self.threshold]
        if not chosen:
            raise PipelineError(
                "no_face_found",
                f"no face of the target image matches the reference (closest "
                f"{min(distances):.2f}, threshold {self.threshold:.2f})",
            )
        return chosen

    def tracker(self) -> FaceTracker:
        face = self.settings.face
        return FaceTracker(
            self.detector,
            self.landmarker,
            detect_every=face.detect_every,
            min_confidence=face.track_min_confidence,
            max_faces=1 if self.params.mode == "largest" else None,
            accept=self.matches if self.reference is not None else None,
            min_score=self.min_score,
        )

    def swap(self, picture: Image, face: Face, *, video: bool = False) -> Image:
        mode = self.settings.face.video_blend if video else "seamless"
        swapped = self.engine.apply(
            self.prepared, target=picture, target_face=face, blend=self.params.blend, mode=mode
        )
        if self.enhancer is None:
            return swapped
        return self.enhancer.enhance(
            swapped,
            face,
            blend=self.params.enhance_blend,
            fidelity=self.params.enhance_fidelity,
        )


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, FaceSwapParams)
    ctx.stage("detect")
    swapper = _Swapper(ctx, params)
    ctx.check_cancelled()
    target = ctx.input("target")
    if target is not None and target.content_type.startswith("video/"):
        return _swap_video(ctx, swapper)
    return _swap_image(ctx, swapper, target_name=target.name if target else "target.png")


def _swap_image(ctx: RunContext, swapper: _Swapper, *, target_name: str) -> dict[str, Any]:
    result = swapper.read(ctx, "target")
    faces = swapper.image_faces(result)
    ctx.progress(DETECT_DONE, stage="detect", message=f"{len(faces)} face(s) in target")

    ctx.stage("swap")
    for index, face in enumerate(faces):
        ctx.check_cancelled()
        result = swapper.swap(result, face)
        done = DETECT_DONE + (SWAP_DONE - DETECT_DONE) * (index + 1) / len(faces)
        ctx.progress(done, stage="swap", message=f"face {index + 1} of {len(faces)}")

    ctx.stage("encode")
    wanted = swapper.params.image_format
    ext = output_extension(target_name) if wanted == "same" else IMAGE_EXTENSIONS[wanted]
    name = f"swapped.{ext}"
    write_image(ctx.output_path(name), result)
    ctx.add_output(name, IMAGE_CONTENT_TYPES[ext])
    ctx.progress(100.0, stage="encode")
    height, width = result.shape[:2]
    return {"faces": len(faces), "width": width, "height": height}


def _swap_video(ctx: RunContext, swapper: _Swapper) -> dict[str, Any]:
    ctx.stage("swap")
    tracker = swapper.tracker()
    swapped_frames = 0

    def transform(_index: int, frame: Image) -> Image:
        nonlocal swapped_frames
        ctx.check_cancelled()
        faces = tracker.faces(frame)
        swapped_frames += bool(faces)
        for face in faces:
            frame = swapper.swap(frame, face, video=True)
        return frame

    def progress(done: int, total: int | None) -> None:
        share = min(1.0, done / total) if total else 0.0
        percent = DETECT_DONE + (SWAP_DONE - DETECT_DONE) * share
        ctx.progress(percent, stage="swap", message=f"frame {done}")

    fmt = VIDEO_FORMATS[swapper.params.video_format]
    name = f"swapped.{fmt.extension}"
    path = ctx.output_path(name)
    caps = swapper.settings.video
    try:
        written = map_video(
            ctx.input_path("target"),
            path,
            transform=transform,
            progress=progress,
            keep_audio=swapper.params.keep_audio,
            output_format=swapper.params.video_format,
            max_frames=caps.max_frames,
            max_pixels=caps.max_pixels,
        )
    except MediaError as exc:
        path.unlink(missing_ok=True)
        raise PipelineError(exc.code, exc.message) from exc
    if swapped_frames == 0:
        path.unlink(missing_ok=True)
        raise PipelineError("no_face_found", "no frame of the target video has a face to swap")
    ctx.add_output(name, fmt.content_type)
    ctx.progress(100.0, stage="swap")
    return {
        "frames": written.frames,
        "frames_swapped": swapped_frames,
        "detections": tracker.detections,
        "duration_s": written.duration_s,
        "width": written.width,
        "height": written.height,
        "audio": written.audio,
    }
