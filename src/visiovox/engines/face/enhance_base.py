"""The interface and the shared run of the face enhancers (GFPGAN, CodeFormer).

An enhancer restores one located face in place: the 512 FFHQ crop from its
five points, the model, and the paste-back (``enhance_crop``). Subclasses name
their manifest model and say what the graph takes beside the face
(``extra_feeds``: CodeFormer's fidelity weight).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt

from visiovox.engines.base import Engine
from visiovox.engines.face.enhance_crop import (
    crop_face,
    crop_matrix,
    from_tensor,
    paste_back,
    to_tensor,
)
from visiovox.engines.face.types import Face, Image
from visiovox.models.cache import prepare_model

if TYPE_CHECKING:
    import onnxruntime as ort

# The face's input name in FaceFusion's exports of both models.
IMAGE_INPUT = "input"


class FaceEnhancer(Engine):
    """Restores faces with a 512x512 ONNX face restoration model."""

    model_id: ClassVar[str]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._session: ort.InferenceSession | None = None

    def load(self) -> None:
        from visiovox.models.onnx_session import create_session

        model = next(prepare_model(self.settings, self.model_id).glob("*.onnx"))
        self._session = create_session(model, settings=self.settings, device=self.device).session

    def close(self) -> None:
        self._session = None

    def extra_feeds(self, *, fidelity: float) -> dict[str, npt.NDArray[Any]]:
        """Inputs the graph takes beside the face, by name (none by default)."""
        return {}

    def restore(self, crop: Image, *, fidelity: float = 0.5) -> Image:
        """The model's restoration of an aligned 512x512 RGB face."""
        if self._session is None:
            raise RuntimeError(f"{self.name} is not loaded")
        feeds = {IMAGE_INPUT: to_tensor(crop), **self.extra_feeds(fidelity=fidelity)}
        return from_tensor(np.asarray(self._session.run(None, feeds)[0]))

    def enhance(self, image: Image, face: Face, *, blend: float, fidelity: float = 0.5) -> Image:
        """``image`` with ``face`` restored, mixed ``blend`` (0 keeps it, 1 all restored).

        ``fidelity`` is CodeFormer's ``w`` (0 restores most, 1 stays closest to
        the input); GFPGAN has none.
        """
        if blend <= 0.0:
            return image.copy()
        matrix = crop_matrix(face.points)
        restored = self.restore(crop_face(image, matrix), fidelity=fidelity)
        return paste_back(image, restored, matrix, blend=blend)
