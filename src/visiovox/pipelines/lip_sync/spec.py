"""Lip-sync: a face (image or video) and audio → the face speaking the audio, as an MP4.

The video is re-timed to the audio's length: a still image is held, a shorter
video loops or ping-pongs (``retime``), a longer one is cut. Its own audio is
replaced. Faces are found on every source frame once (a looped frame is not
searched again); frames where none is found are written unchanged.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from visiovox.media.kinds import MediaKind
from visiovox.pipelines.spec import InputSpec, PipelineSpec

DETECT, LANDMARKS = "face.detect", "face.landmarks"
MOUTH_WARP, WAV2LIP = "lipsync.mouth_warp", "lipsync.wav2lip"
VAD = "vad.silero"
# auto is the warp: Wav2Lip needs research-only weights pulled first.
LIPSYNC_ENGINES = {"auto": MOUTH_WARP, "mouth_warp": MOUTH_WARP, "wav2lip": WAV2LIP}
EngineChoice = Literal["auto", "mouth_warp", "wav2lip"]
ENGINE_HELP = (
    "mouth_warp: landmark warp of lips and jaw, no model (auto picks it); "
    "wav2lip: Wav2Lip-GAN ONNX (pull wav2lip-gan first; research-only licence)."
)


class LipSyncParams(BaseModel):
    """How to re-time the face to the audio, and with which engine."""

    model_config = ConfigDict(extra="forbid")

    retime: Literal["pingpong", "loop"] = Field(
        default="pingpong",
        description="A video shorter than the audio plays forwards and back (pingpong) or "
        "restarts (loop).",
    )
    fps: int = Field(default=25, ge=5, le=60, description="Frame rate for a still image.")
    size: int | None = Field(
        default=None, ge=128, le=1920, description="Longer side in pixels; empty: the face's own."
    )
    engine: EngineChoice = Field(default="auto", description=ENGINE_HELP)


SPEC = PipelineSpec(
    name="lip-sync",
    summary="Lip-sync: a face image or video speaks the audio → video.mp4 (H.264 + AAC).",
    params=LipSyncParams,
    run="visiovox.pipelines.lip_sync.run:run",
    inputs=(
        InputSpec(
            "face",
            frozenset({MediaKind.IMAGE, MediaKind.VIDEO}),
            description="Image or video of the face.",
        ),
        InputSpec("audio", frozenset({MediaKind.AUDIO}), description="The speech."),
    ),
    engines=(VAD, DETECT, LANDMARKS, MOUTH_WARP),
)
