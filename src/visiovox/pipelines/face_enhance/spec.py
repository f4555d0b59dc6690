"""Face enhancement: GFPGAN v1.4 or CodeFormer restores the faces of an image or a video.

Stages: ``detect`` (an image's faces; none is ``no_face_found``), ``enhance``
(one progress step per face of an image, per frame of a video) and, for
images, ``encode``. Each face is aligned to the 512 FFHQ template from its
five points, restored and pasted back (``engines/face/enhance_crop.py``). A
video's faces are followed by ``FaceTracker`` as in ``face-swap``; frames
without a face pass unchanged. Both models are pulled from the hub first
(``visiovox models pull gfpgan-1.4`` or ``codeformer``; CodeFormer is
non-commercial); a missing one fails the job ``model_unavailable``.

``face-swap`` and the live face swap run the same engines after the swap
(their ``enhance`` param, ``choices.py``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from visiovox.media.kinds import MediaKind
from visiovox.pipelines.face_enhance.choices import (
    BLEND_HELP,
    DEFAULT_BLEND,
    DEFAULT_FIDELITY,
    FIDELITY_HELP,
)
from visiovox.pipelines.face_swap.spec import DETECT, LANDMARKS
from visiovox.pipelines.spec import InputSpec, PipelineSpec


class FaceEnhanceParams(BaseModel):
    """Which model, which faces, how strongly, and the output's format."""

    model_config = ConfigDict(extra="forbid")

    enhancer: Literal["gfpgan", "codeformer"] = Field(
        default="gfpgan",
        description="gfpgan: GFPGAN v1.4 (pull gfpgan-1.4 first); codeformer: CodeFormer "
        "(pull codeformer first; non-commercial licence).",
    )
    mode: Literal["largest", "all"] = Field(
        default="all", description="Restore the largest face of each picture, or every face."
    )
    blend: float = Field(default=DEFAULT_BLEND, ge=0.0, le=1.0, description=BLEND_HELP)
    fidelity: float = Field(default=DEFAULT_FIDELITY, ge=0.0, le=1.0, description=FIDELITY_HELP)
    keep_audio: bool = Field(default=True, description="Video: carry the audio over.")
    video_format: Literal["h264-mp4", "h265-mp4", "vp9-webm"] = Field(
        default="h264-mp4", description="Video: codec and container of the result."
    )
    image_format: Literal["same", "png", "jpeg", "webp"] = Field(
        default="same", description="Image: format of the result (same: the input's)."
    )


SPEC = PipelineSpec(
    name="face-enhance",
    summary="Face enhancement: GFPGAN or CodeFormer restores the faces of an image or video.",
    params=FaceEnhanceParams,
    run="visiovox.pipelines.face_enhance.run:run",
    inputs=(
        InputSpec(
            "target",
            frozenset({MediaKind.IMAGE, MediaKind.VIDEO}),
            description="Image or video whose faces are restored.",
        ),
    ),
    engines=(DETECT, LANDMARKS),
)
