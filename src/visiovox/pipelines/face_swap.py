"""Face swap on images: the face of ``source`` replaces the faces of ``target``.

Stages: ``detect`` (source first, so a source without a face fails before any
work on the target), ``swap`` (one progress step per face) and ``encode``
(the result is written in the target's format). Engines and OpenCV are imported
inside ``run``; the gateway imports this module for ``SPEC`` only.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from visiovox.pipelines.context import RunContext
from visiovox.pipelines.errors import PipelineError
from visiovox.pipelines.spec import InputSpec, MediaKind, PipelineSpec

DETECT, LANDMARKS, WARP = "face.detect", "face.landmarks", "face.swap_warp"
SWAP_ENGINES = {"auto": WARP, "warp": WARP}
# Progress after detection; swapping the faces takes it to SWAP_DONE, encoding to 100.
DETECT_DONE, SWAP_DONE = 20.0, 90.0


class FaceSwapParams(BaseModel):
    """Which faces to replace, with which engine, and how strongly."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["largest", "all"] = Field(
        default="largest", description="Replace the largest face of target, or every face."
    )
    engine: Literal["auto", "warp"] = Field(
        default="auto", description="warp: landmark warp and Poisson blend (auto picks it)."
    )
    blend: float = Field(
        default=1.0, ge=0.0, le=1.0, description="1 the source face, 0 the target unchanged."
    )


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, FaceSwapParams)
    from visiovox.engines.face.detect import FaceDetector
    from visiovox.engines.face.landmarks import FaceLandmarker
    from visiovox.engines.face.swap_warp import WarpSwapper
    from visiovox.media.image import IMAGE_CONTENT_TYPES, output_extension, read_image, write_image

    ctx.stage("detect")
    detector = ctx.engine(DETECT, FaceDetector)
    landmarker = ctx.engine(LANDMARKS, FaceLandmarker)
    swapper = ctx.engine(SWAP_ENGINES[params.engine], WarpSwapper)
    source = read_image(ctx.input_path("source"))
    source_boxes = detector.detect(source)
    if not source_boxes:
        raise PipelineError("no_face_found", "the source image has no face")
    source_face = landmarker.landmarks(source, source_boxes[0])
    ctx.check_cancelled()
    target = read_image(ctx.input_path("target"))
    boxes = detector.detect(target)
    if not boxes:
        raise PipelineError("no_face_found", "the target image has no face")
    boxes = boxes[:1] if params.mode == "largest" else boxes
    ctx.progress(DETECT_DONE, stage="detect", message=f"{len(boxes)} face(s) in target")

    ctx.stage("swap")
    result = target
    for index, box in enumerate(boxes):
        ctx.check_cancelled()
        result = swapper.swap(
            source=source,
            source_face=source_face,
            target=result,
            target_face=landmarker.landmarks(target, box),
            blend=params.blend,
        )
        done = DETECT_DONE + (SWAP_DONE - DETECT_DONE) * (index + 1) / len(boxes)
        ctx.progress(done, stage="swap", message=f"face {index + 1} of {len(boxes)}")

    ctx.stage("encode")
    target_input = ctx.input("target")
    ext = output_extension(target_input.name if target_input is not None else "target.png")
    name = f"swapped.{ext}"
    write_image(ctx.output_path(name), result)
    ctx.add_output(name, IMAGE_CONTENT_TYPES[ext])
    ctx.progress(100.0, stage="encode")
    height, width = result.shape[:2]
    return {"faces": len(boxes), "width": width, "height": height, "engine": params.engine}


SPEC = PipelineSpec(
    name="face-swap",
    summary="Face swap: the face of source replaces the faces of target (image).",
    params=FaceSwapParams,
    run=run,
    inputs=(
        InputSpec(
            "source", frozenset({MediaKind.IMAGE}), description="Image with the face to use."
        ),
        InputSpec("target", frozenset({MediaKind.IMAGE}), description="Image whose faces change."),
    ),
    engines=(DETECT, LANDMARKS, WARP),
)
