"""The live face swap: a long-running job that hosts one ``WS /v1/live/face-swap`` session.

The gateway checks ``start_session`` against ``LiveFaceSwapParams`` and creates
this job; the worker that claims it keeps its engines (the face detector,
landmarks and the swap engine) for the whole session. The client's first
binary message is the source face, each later one a video frame; the loop
(``run.py``) answers the newest frame and lists the ones it skipped.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from visiovox.pipelines.face_enhance.choices import (
    BLEND_HELP,
    DEFAULT_BLEND,
    ENHANCE_HELP,
    EnhanceChoice,
)
from visiovox.pipelines.face_swap.spec import DETECT, LANDMARKS, WARP
from visiovox.pipelines.spec import PipelineSpec


class LiveFaceSwapParams(BaseModel):
    """The choices of ``start_session`` (every one optional)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    mode: Literal["largest", "all", "reference"] = Field(
        default="largest",
        description="Replace the largest face of each frame, every face, or the faces that "
        "look like the reference image's face.",
    )
    engine: Literal["auto", "warp", "inswapper"] = Field(
        default="auto", description="auto is warp; inswapper needs its weights pulled first."
    )
    blend: float = Field(default=1.0, ge=0.0, le=1.0, description="1 the source face, 0 none.")
    enhance: EnhanceChoice = Field(
        default="none", description=f"{ENHANCE_HELP} GPU workers only (unsupported_on_device)."
    )
    enhance_blend: float = Field(default=DEFAULT_BLEND, ge=0.0, le=1.0, description=BLEND_HELP)
    jpeg_quality: int = Field(default=80, ge=50, le=95, description="JPEG quality of answers.")
    max_fps: int = Field(default=30, ge=1, le=60, description="Most frames answered a second.")


SPEC = PipelineSpec(
    name="face-swap-live",
    summary="Live face swap session (WS /v1/live/face-swap): webcam frames in, swapped out.",
    params=LiveFaceSwapParams,
    run="visiovox.pipelines.face_swap_live.run:run",
    engines=(DETECT, LANDMARKS, WARP),
    live=True,
)
