"""68-point face landmarks with dlib's shape predictor (iBUG 300-W layout)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from visiovox.engines.base import Engine
from visiovox.engines.face.types import Face, FaceBox, Image
from visiovox.models.cache import prepare_model

if TYPE_CHECKING:
    import dlib

MODEL_FILE = "shape_predictor_68_face_landmarks.dat"


def to_rect(box: FaceBox) -> dlib.rectangle:
    """The dlib rectangle of ``box`` (dlib's right/bottom are inclusive)."""
    import dlib

    return dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)


class FaceLandmarker(Engine):
    """Places the 68 iBUG landmarks inside a detected box."""

    name = "face.landmarks"
    models = ("dlib-landmarks-68",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._predictor: dlib.shape_predictor | None = None

    def load(self) -> None:
        import dlib

        folder = prepare_model(self.settings, self.models[0])
        self._predictor = dlib.shape_predictor(str(folder / MODEL_FILE))

    def close(self) -> None:
        self._predictor = None

    def landmarks(self, image: Image, box: FaceBox) -> Face:
        """The face in ``box`` with its 68 points, as float32 (x, y) pixels."""
        if self._predictor is None:
            raise RuntimeError("face.landmarks is not loaded")
        shape = self._predictor(image, to_rect(box))
        points = np.array([(part.x, part.y) for part in shape.parts()], dtype=np.float32)
        return Face(box=box, points=points)
