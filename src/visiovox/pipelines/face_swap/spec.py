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
it is first detected. ``enhance`` (``gfpgan`` or ``codeformer``) restores each
swapped face afterwards, as the ``face-enhance`` pipeline does.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from visiovox.media.kinds import MediaKind
from visiovox.pipelines.face_enhance.choices import (
    BLEND_HELP,
    DEFAULT_BLEND,
    DEFAULT_FIDELITY,
    ENHANCE_HELP,
    FIDELITY_HELP,
    EnhanceChoice,
)
from visiovox.pipelines.spec import InputSpec, PipelineSpec

DETECT, LANDMARKS, WARP = "face.detect", "face.landmarks", "face.swap_warp"
EMBED, INSWAPPER = "face.embed", "face.swap_inswapper"
# auto is the warp: inswapper needs 650 MB of research-only weights pulled first.
SWAP_ENGINES = {"auto": WARP, "warp": WARP, "inswapper": INSWAPPER}


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
    enhance: EnhanceChoice = Field(default="none", description=ENHANCE_HELP)
    enhance_blend: float = Field(default=DEFAULT_BLEND, ge=0.0, le=1.0, description=BLEND_HELP)
    enhance_fidelity: float = Field(
        default=DEFAULT_FIDELITY, ge=0.0, le=1.0, description=FIDELITY_HELP
    )
    keep_audio: bool = Field(default=True, description="Video: carry the target's audio over.")
    video_format: Literal["h264-mp4", "h265-mp4", "vp9-webm"] = Field(
        default="h264-mp4", description="Video: codec and container of the result."
    )
    image_format: Literal["same", "png", "jpeg", "webp"] = Field(
        default="same", description="Image: format of the result (same: the target's)."
    )


SPEC = PipelineSpec(
    name="face-swap",
    summary="Face swap: the face of source replaces the faces of target (image or video).",
    params=FaceSwapParams,
    run="visiovox.pipelines.face_swap.run:run",
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
