"""The lip-sync interface: speech drives a mouth, frame by frame or in batches.

An engine makes a ``LipSyncDriver`` for one job from the speech (16 kHz mono)
and the frame rate; the driver renders frames whose face is known, in batches
of up to ``batch_size``. Frames where no face was found never reach it.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visiovox.engines.base import Engine
from visiovox.engines.face.types import Face, Image
from visiovox.engines.lipsync.face_box import CropBox

SPEECH_RATE = 16_000


@dataclass(frozen=True)
class FaceFrame:
    """Output frame ``index`` (its time is index / fps), the picture and its face.

    ``crop`` is the box an engine that crops a box (Wav2Lip) takes, when the
    pipeline made it over the whole video (``face_box.crop_boxes``: smoothed
    over frames); None: the engine makes it from this frame's face alone.
    """

    index: int
    image: Image
    face: Face
    crop: CropBox | None = None


class LipSyncDriver(abc.ABC):
    """One job's speech, ready to move mouths."""

    batch_size: int = 1

    @abc.abstractmethod
    def render(self, frames: Sequence[FaceFrame]) -> list[Image]:
        """The frames with the mouth moved to the speech at their times (new arrays)."""


class LipSyncEngine(Engine):
    """Makes a driver from speech; loaded once per worker."""

    @abc.abstractmethod
    def driver(self, speech: npt.NDArray[np.float32], *, fps: float, frames: int) -> LipSyncDriver:
        """A driver for ``frames`` frames at ``fps`` of ``speech`` (16 kHz mono float32).

        Speech without any voice raises ``PipelineError("no_speech", ...)``.
        """
