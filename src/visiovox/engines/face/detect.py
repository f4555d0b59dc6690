"""Face detection with dlib's HOG detector, run on a downscaled copy of the frame.

HOG costs grow with the pixel count, and faces worth swapping are large: the
frame is shrunk so its longer side is at most ``DETECT_MAX_SIDE`` and the boxes
are scaled back to the original pixels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from visiovox.engines.base import Engine
from visiovox.engines.face.types import FaceBox, Image

if TYPE_CHECKING:
    import dlib

# Longer side of the frame the detector sees; a 640-pixel frame still finds
# faces down to ~40 pixels (HOG's 80-pixel window at one upsample).
DETECT_MAX_SIDE = 640


class FaceDetector(Engine):
    """dlib's frontal-face HOG detector; needs no model file."""

    name = "face.detect"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._detector: dlib.fhog_object_detector | None = None

    def load(self) -> None:
        import dlib

        self._detector = dlib.get_frontal_face_detector()

    def close(self) -> None:
        self._detector = None

    def detect(self, image: Image, *, upsample: int = 1, min_score: float = 0.0) -> list[FaceBox]:
        """Faces in ``image`` scoring ``min_score`` or more (dlib's cut is 0), largest first."""
        import cv2

        if self._detector is None:
            raise RuntimeError("face.detect is not loaded")
        height, width = image.shape[:2]
        scale = min(1.0, DETECT_MAX_SIDE / max(height, width))
        small = image
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = np.ascontiguousarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
        rects, scores, _ = self._detector.run(small, upsample, min_score)
        boxes = [
            FaceBox(
                left=max(0, round(rect.left() / scale)),
                top=max(0, round(rect.top() / scale)),
                right=min(width, round((rect.right() + 1) / scale)),
                bottom=min(height, round((rect.bottom() + 1) / scale)),
                score=float(score),
            )
            for rect, score in zip(rects, scores, strict=True)
        ]
        return sorted(boxes, key=lambda box: box.area, reverse=True)

    def largest(self, image: Image, *, min_score: float = 0.0) -> FaceBox | None:
        """The largest face of ``image``, or None; a coarse pass first, the full one if need be.

        Without upsampling HOG sees only faces of 80+ pixels on the shrunk frame,
        at about a quarter of the cost; any face it misses is smaller than one it
        finds, so the full pass runs only when the coarse one finds nothing.
        """
        boxes = self.detect(image, upsample=0, min_score=min_score) or self.detect(
            image, upsample=1, min_score=min_score
        )
        return boxes[0] if boxes else None
