"""InsightFace's inswapper_128 (ONNX): a learned swap on 128x128 aligned crops.

The source identity is ArcFace's 512-d embedding of the source face (aligned to
112x112), mapped through ``emap`` (the swapper graph's last initializer) and
normalised. The target face is aligned to 128x128 with the same five-point
template, swapped, and pasted back through the inverse transform under a
feathered mask. The five points come from dlib's 68: eye centres, nose tip,
mouth corners.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from visiovox.engines.face.swap_base import BlendMode, FaceSwapEngine, PreparedSource
from visiovox.engines.face.types import Face, Image, Points
from visiovox.models.cache import prepare_model

if TYPE_CHECKING:
    import onnxruntime as ort

SWAP_MODEL, EMBED_MODEL = "inswapper-128", "arcface-w600k-r50"
SWAP_SIZE, EMBED_SIZE = 128, 112
# ArcFace's five-point template in a 112x112 crop (insightface face_align.arcface_dst).
TEMPLATE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)
Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class InSwapSource(PreparedSource):
    """The source identity as the swapper's 1x512 latent."""

    latent: npt.NDArray[np.float32]


def five_points(points: Points) -> Points:
    """Eye centres, nose tip and mouth corners from the 68 iBUG landmarks."""
    return np.array(
        [
            points[36:42].mean(axis=0),
            points[42:48].mean(axis=0),
            points[30],
            points[48],
            points[54],
        ],
        dtype=np.float32,
    )


def read_emap(model: Path) -> npt.NDArray[np.float32]:
    """The 512x512 identity map stored as the swapper graph's last initializer."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(model)).graph
    return np.asarray(numpy_helper.to_array(graph.initializer[-1]), dtype=np.float32)


class InSwapper(FaceSwapEngine):
    """inswapper_128 with ArcFace w600k r50 for the source identity."""

    name = "face.swap_inswapper"
    models = (SWAP_MODEL, EMBED_MODEL)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._swap: ort.InferenceSession | None = None
        self._embed: ort.InferenceSession | None = None
        self._emap: npt.NDArray[np.float32] | None = None

    def load(self) -> None:
        from visiovox.models.onnx_session import create_session

        swap_file = next(prepare_model(self.settings, SWAP_MODEL).glob("*.onnx"))
        embed_file = next(prepare_model(self.settings, EMBED_MODEL).glob("*.onnx"))
        self._emap = read_emap(swap_file)
        session = create_session(swap_file, settings=self.settings, device=self.device)
        self._swap = session.session
        self._embed = create_session(embed_file, settings=self.settings, device=self.device).session

    def close(self) -> None:
        self._swap = self._embed = self._emap = None

    def latent(self, image: Image, face: Face) -> npt.NDArray[np.float32]:
        """The normalised identity latent (1x512) the swapper takes for ``face``."""
        import cv2

        if self._embed is None or self._emap is None:
            raise RuntimeError("face.swap_inswapper is not loaded")
        matrix = _alignment(face.points, size=EMBED_SIZE)
        crop = cv2.warpAffine(image, matrix, (EMBED_SIZE, EMBED_SIZE), borderValue=0.0)
        blob = ((crop.astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1)[None]
        name = self._embed.get_inputs()[0].name
        embedding = np.asarray(self._embed.run(None, {name: blob})[0], dtype=np.float32)
        embedding = embedding.reshape(1, -1) / (np.linalg.norm(embedding) + 1e-6)
        latent = embedding @ self._emap
        return np.asarray(latent / (np.linalg.norm(latent) + 1e-6), dtype=np.float32)

    def prepare(self, source: Image, source_face: Face) -> InSwapSource:
        return InSwapSource(latent=self.latent(source, source_face))

    def apply(
        self,
        prepared: PreparedSource,
        *,
        target: Image,
        target_face: Face,
        blend: float = 1.0,
        mode: BlendMode = "seamless",
    ) -> Image:
        """``target`` with ``target_face`` swapped; ``mode`` does not apply (always feathered)."""
        import cv2

        assert isinstance(prepared, InSwapSource)
        if self._swap is None:
            raise RuntimeError("face.swap_inswapper is not loaded")
        if blend <= 0.0:
            return target.copy()
        matrix = _alignment(target_face.points, size=SWAP_SIZE)
        crop = cv2.warpAffine(target, matrix, (SWAP_SIZE, SWAP_SIZE), borderValue=0.0)
        feeds = {}
        for spec in self._swap.get_inputs():
            if len(spec.shape) == 4:
                feeds[spec.name] = (crop.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
            else:
                feeds[spec.name] = prepared.latent
        output = np.asarray(self._swap.run(None, feeds)[0], dtype=np.float32)
        swapped = np.clip(output[0].transpose(1, 2, 0) * 255.0, 0, 255).astype(np.uint8)
        return _paste(target, swapped, matrix, blend=blend)


def _alignment(points: Points, *, size: int) -> Matrix:
    import cv2

    template = TEMPLATE_112 * (size / EMBED_SIZE)
    matrix, _ = cv2.estimateAffinePartial2D(five_points(points), template)
    if matrix is None:
        raise ValueError("the face's landmarks are degenerate")
    return np.asarray(matrix, dtype=np.float64)


def _paste(target: Image, crop: Image, matrix: Matrix, *, blend: float) -> Image:
    """``crop`` put back where ``matrix`` took it from, feathered at its edges."""
    import cv2

    height, width = target.shape[:2]
    inverse = cv2.invertAffineTransform(matrix)
    back = cv2.warpAffine(crop, inverse, (width, height), borderValue=0.0)
    white = np.full((SWAP_SIZE, SWAP_SIZE), 255, dtype=np.uint8)
    mask = cv2.warpAffine(white, inverse, (width, height), borderValue=0.0)
    radius = max(1, int(np.sqrt(float((mask > 0).sum())) * 0.08))
    kernel = np.ones((radius, radius), dtype=np.uint8)
    mask = cv2.erode(mask, kernel)
    mask = cv2.GaussianBlur(mask, (2 * radius + 1, 2 * radius + 1), 0)
    alpha = mask.astype(np.float32)[..., None] / 255.0 * float(min(blend, 1.0))
    mixed = back.astype(np.float32) * alpha + target.astype(np.float32) * (1.0 - alpha)
    return np.asarray(np.clip(np.rint(mixed), 0, 255), dtype=np.uint8)
