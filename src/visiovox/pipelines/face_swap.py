"""Face swap: the face of ``source`` replaces the faces of ``target`` (an image or a video).

Stages: ``detect`` (source first, so a source without a face fails before any
work on the target; then the reference face of ``mode=reference``), ``swap``
(one progress step per face of an image, per frame of a video) and, for
images, ``encode``. An image result keeps the target's format unless
``image_format`` names one; a video result is ``swapped.<ext>`` in
``video_format`` (H.264 MP4 by default) with the target's audio.

A video's faces are followed by ``FaceTracker``: a full detection every
``face.detect_every`` frames, landmarks tracked between. The source face is
prepared once (``FaceSwapEngine.prepare``). In ``mode=reference`` only target
faces within ``reference_threshold`` (dlib embedding distance) of the
reference image's face are swapped; in a video each face is judged once, when
it is first detected. Engines, OpenCV and the codecs are imported inside
``run``: the gateway imports this module for ``SPEC`` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from visiovox.errors import PipelineError
from visiovox.media.kinds import MediaKind
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.spec import InputSpec, PipelineSpec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from visiovox.engines.face.tracker import FaceTracker
    from visiovox.engines.face.types import Face, Image

DETECT, LANDMARKS, WARP = "face.detect", "face.landmarks", "face.swap_warp"
EMBED, INSWAPPER = "face.embed", "face.swap_inswapper"
# auto is the warp: inswapper needs 650 MB of research-only weights pulled first.
SWAP_ENGINES = {"auto": WARP, "warp": WARP, "inswapper": INSWAPPER}
IMAGE_EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}
# Progress after detection; swapping the faces takes it to SWAP_DONE, encoding to 100.
DETECT_DONE, SWAP_DONE = 10.0, 95.0


class FaceSwapParams(BaseModel):
    """Which faces to replace, with which engine, how strongly, and the output's format."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["largest", "all", "reference"] = Field(
        default="largest",
        description="Replace the largest face of target, every face, or the faces that look "
        "like the face of the `reference` image.",
    )
    reference_threshold: float | None = Field(
        default=None,
        gt=0.0,
        le=2.0,
        description="mode=reference: largest dlib embedding distance counted as the same "
        "person (default face.reference_threshold, 0.6).",
    )
    engine: Literal["auto", "warp", "inswapper"] = Field(
        default="auto",
        description="warp: landmark warp and Poisson blend (auto picks it); inswapper: "
        "InsightFace inswapper_128 (pull inswapper-128 and arcface-w600k-r50 first).",
    )
    blend: float = Field(
        default=1.0, ge=0.0, le=1.0, description="1 the source face, 0 the target unchanged."
    )
    keep_audio: bool = Field(default=True, description="Video: carry the target's audio over.")
    video_format: Literal["h264-mp4", "h265-mp4", "vp9-webm"] = Field(
        default="h264-mp4", description="Video: codec and container of the result."
    )
    image_format: Literal["same", "png", "jpeg", "webp"] = Field(
        default="same", description="Image: format of the result (same: the target's)."
    )


class _Swapper:
    """The loaded engines, the prepared source face and the reference identity."""

    def __init__(self, ctx: RunContext, params: FaceSwapParams) -> None:
        from visiovox.engines.face.detect import FaceDetector
        from visiovox.engines.face.detect_scrfd import preferred_detector
        from visiovox.engines.face.landmarks import FaceLandmarker
        from visiovox.engines.face.swap_base import FaceSwapEngine

        self.landmarker = ctx.engine(LANDMARKS, FaceLandmarker)
        self.settings = self.landmarker.settings
        self.detector = ctx.engine(preferred_detector(self.settings), FaceDetector)
        self.engine = ctx.engine(SWAP_ENGINES[params.engine], FaceSwapEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
        self.params = params
        self.min_score = self.settings.face.hog_min_score
        source = self.read(ctx, "source")
        self.prepared = self.engine.prepare(source, self._first_face(source, "source"))
        self.reference: npt.NDArray[np.float32] | None = None
        self.threshold = params.reference_threshold or self.settings.face.reference_threshold
        if params.mode == "reference":
            self._load_reference(ctx)

    def read(self, ctx: RunContext, field: str) -> Image:
        """The image upload ``field``; one that cannot be read fails the job with its media code."""
        from visiovox.media.errors import MediaError
        from visiovox.media.image import read_image

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
        from visiovox.engines.face.embed import FaceEmbedder

        if ctx.input("reference") is None:
            raise PipelineError("missing_input", "mode=reference needs a reference image")
        self.embedder = ctx.engine(EMBED, FaceEmbedder)
        picture = self.read(ctx, "reference")
        self.reference = self.embedder.embed(picture, self._first_face(picture, "reference"))

    def distance(self, picture: Image, face: Face) -> float:
        """dlib embedding distance of ``face`` to the reference face."""
        import numpy as np

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
        from visiovox.engines.face.tracker import FaceTracker

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
        return self.engine.apply(
            self.prepared, target=picture, target_face=face, blend=self.params.blend, mode=mode
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
    from visiovox.media.image import IMAGE_CONTENT_TYPES, output_extension, write_image

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
    from visiovox.media.errors import MediaError
    from visiovox.media.video import VIDEO_FORMATS, map_video

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


SPEC = PipelineSpec(
    name="face-swap",
    summary="Face swap: the face of source replaces the faces of target (image or video).",
    params=FaceSwapParams,
    run="visiovox.pipelines.face_swap:run",
    inputs=(
        InputSpec(
            "source", frozenset({MediaKind.IMAGE}), description="Image with the face to use."
        ),
        InputSpec(
            "target",
            frozenset({MediaKind.IMAGE, MediaKind.VIDEO}),
            description="Image or video whose faces change.",
        ),
        InputSpec(
            "reference",
            frozenset({MediaKind.IMAGE}),
            required=False,
            description="mode=reference: an image of the person whose faces are replaced.",
            required_when=("mode", "reference"),
        ),
    ),
    engines=(DETECT, LANDMARKS, WARP),
)
