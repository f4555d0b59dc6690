"""Small value types the face engines exchange: boxes and landmark sets.

Images are RGB ``uint8`` arrays of shape (height, width, 3) throughout, the
layout dlib expects; OpenCV code converts at its own boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Points = npt.NDArray[np.float32]


@dataclass(frozen=True)
class FaceBox:
    """A detected face in image pixels; ``right``/``bottom`` are exclusive."""

    left: int
    top: int
    right: int
    bottom: int
    score: float = 0.0
    # The detector's own (x1, y1, x2, y2) where it differs from this box: SCRFD's,
    # beside the HOG-shaped box dlib's 68 points are placed in. Wav2Lip crops it.
    detected: tuple[int, int, int, int] | None = None

    @property
    def area(self) -> int:
        return max(0, self.right - self.left) * max(0, self.bottom - self.top)


@dataclass(frozen=True)
class Face:
    """A face with its 68 landmarks (x, y) in image pixels."""

    box: FaceBox
    points: Points
