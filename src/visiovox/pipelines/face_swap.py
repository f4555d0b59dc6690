"""Face swap: the face of ``source`` replaces the faces of ``target`` (an image or a video).

Stages: ``detect`` (source first, so a source without a face fails before any
work on the target), ``swap`` (one progress step per face of an image, per
frame of a video) and, for images, ``encode``. An image result keeps the
target's format; a video result is ``swapped.mp4`` (H.264) with the target's
audio. Engines, OpenCV and the codecs are imported inside ``run``: the gateway
imports this module for ``SPEC`` only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from visiovox.pipelines.context import RunContext
from visiovox.pipelines.errors import PipelineError
from visiovox.pipelines.spec import InputSpec, MediaKind, PipelineSpec

if TYPE_CHECKING:
    from visiovox.engines.face.types import Face, Image

DETECT, LANDMARKS, WARP = "face.detect", "face.landmarks", "face.swap_warp"
INSWAPPER = "face.swap_inswapper"
# auto is the warp: inswapper needs 650 MB of research-only weights pulled first.
SWAP_ENGINES = {"auto": WARP, "warp": WARP, "inswapper": INSWAPPER}
# Progress after detection; swapping the faces takes it to SWAP_DONE, encoding to 100.
DETECT_DONE, SWAP_DONE = 10.0, 95.0


class FaceSwapParams(BaseModel):
    """Which faces to replace, with which engine, and how strongly."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["largest", "all"] = Field(
        default="largest", description="Replace the largest face of target, or every face."
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


class _Swapper:
    """The loaded engines and the source face, applied to one target picture at a time."""

    def __init__(self, ctx: RunContext, params: FaceSwapParams) -> None:
        from visiovox.engines.face.detect import FaceDetector
        from visiovox.engines.face.landmarks import FaceLandmarker
        from visiovox.engines.face.swap_base import FaceSwapEngine
        from visiovox.media.image import read_image

        self.detector = ctx.engine(DETECT, FaceDetector)
        self.landmarker = ctx.engine(LANDMARKS, FaceLandmarker)
        self.engine = ctx.engine(SWAP_ENGINES[params.engine], FaceSwapEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
        self.params = params
        self.source = read_image(ctx.input_path("source"))
        boxes = self.detector.detect(self.source)
        if not boxes:
            raise PipelineError("no_face_found", "the source image has no face")
        self.source_face: Face = self.landmarker.landmarks(self.source, boxes[0])

    def faces(self, picture: Image) -> list[Face]:
        boxes = self.detector.detect(picture)
        boxes = boxes[:1] if self.params.mode == "largest" else boxes
        return [self.landmarker.landmarks(picture, box) for box in boxes]

    def swap(self, picture: Image, face: Face) -> Image:
        return self.engine.swap(
            source=self.source,
            source_face=self.source_face,
            target=picture,
            target_face=face,
            blend=self.params.blend,
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
    from visiovox.media.image import IMAGE_CONTENT_TYPES, output_extension, read_image, write_image

    result = read_image(ctx.input_path("target"))
    faces = swapper.faces(result)
    if not faces:
        raise PipelineError("no_face_found", "the target image has no face")
    ctx.progress(DETECT_DONE, stage="detect", message=f"{len(faces)} face(s) in target")

    ctx.stage("swap")
    for index, face in enumerate(faces):
        ctx.check_cancelled()
        result = swapper.swap(result, face)
        done = DETECT_DONE + (SWAP_DONE - DETECT_DONE) * (index + 1) / len(faces)
        ctx.progress(done, stage="swap", message=f"face {index + 1} of {len(faces)}")

    ctx.stage("encode")
    ext = output_extension(target_name)
    name = f"swapped.{ext}"
    write_image(ctx.output_path(name), result)
    ctx.add_output(name, IMAGE_CONTENT_TYPES[ext])
    ctx.progress(100.0, stage="encode")
    height, width = result.shape[:2]
    return {"faces": len(faces), "width": width, "height": height}


def _swap_video(ctx: RunContext, swapper: _Swapper) -> dict[str, Any]:
    from visiovox.media.video import map_video

    ctx.stage("swap")
    swapped_frames = 0

    def transform(_index: int, frame: Image) -> Image:
        nonlocal swapped_frames
        ctx.check_cancelled()
        faces = swapper.faces(frame)
        swapped_frames += bool(faces)
        for face in faces:
            frame = swapper.swap(frame, face)
        return frame

    def progress(done: int, total: int | None) -> None:
        share = min(1.0, done / total) if total else 0.0
        percent = DETECT_DONE + (SWAP_DONE - DETECT_DONE) * share
        ctx.progress(percent, stage="swap", message=f"frame {done}")

    name = "swapped.mp4"
    path: Path = ctx.output_path(name)
    written = map_video(
        ctx.input_path("target"),
        path,
        transform=transform,
        progress=progress,
        keep_audio=swapper.params.keep_audio,
    )
    if swapped_frames == 0:
        path.unlink(missing_ok=True)
        raise PipelineError("no_face_found", "no frame of the target video has a face")
    ctx.add_output(name, "video/mp4")
    ctx.progress(100.0, stage="swap")
    return {
        "frames": written.frames,
        "frames_swapped": swapped_frames,
        "duration_s": written.duration_s,
        "width": written.width,
        "height": written.height,
        "audio": written.audio,
    }


SPEC = PipelineSpec(
    name="face-swap",
    summary="Face swap: the face of source replaces the faces of target (image or video).",
    params=FaceSwapParams,
    run=run,
    inputs=(
        InputSpec(
            "source", frozenset({MediaKind.IMAGE}), description="Image with the face to use."
        ),
        InputSpec(
            "target",
            frozenset({MediaKind.IMAGE, MediaKind.VIDEO}),
            description="Image or video whose faces change.",
        ),
    ),
    engines=(DETECT, LANDMARKS, WARP),
)
