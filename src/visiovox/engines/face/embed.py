"""128-d identity embeddings with dlib's ResNet face recognition model.

Two photos of one person lie within ~0.6 of each other (Euclidean); the
network aligns the face itself from the 68 landmarks it is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from visiovox.engines.base import Engine
from visiovox.engines.face.landmarks import to_rect
from visiovox.engines.face.types import Face, Image
from visiovox.models.cache import prepare_model

if TYPE_CHECKING:
    import dlib

MODEL_FILE = "dlib_face_recognition_resnet_model_v1.dat"


class FaceEmbedder(Engine):
    """Identity vectors of faces located by ``face.landmarks``."""

    name = "face.embed"
    models = ("dlib-face-resnet",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._model: dlib.face_recognition_model_v1 | None = None

    def load(self) -> None:
        import dlib

        folder = prepare_model(self.settings, self.models[0])
        self._model = dlib.face_recognition_model_v1(str(folder / MODEL_FILE))

    def close(self) -> None:
        self._model = None

    def embed(self, image: Image, face: Face) -> npt.NDArray[np.float32]:
        """The 128-d embedding of ``face`` in ``image``."""
        import dlib

        if self._model is None:
            raise RuntimeError("face.embed is not loaded")
        parts = [dlib.point(round(float(x)), round(float(y))) for x, y in face.points]
        shape = dlib.full_object_detection(to_rect(face.box), parts)
        descriptor = self._model.compute_face_descriptor(image, shape)
        return np.asarray(descriptor, dtype=np.float32)
