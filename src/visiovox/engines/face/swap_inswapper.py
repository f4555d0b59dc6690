"""InsightFace's inswapper_128 (ONNX): a learned swap on 128x128 aligned crops.

Run as insightface's ``model_zoo/inswapper.py`` runs it. The source identity is
ArcFace's 512-d embedding of the source face (``align.norm_crop`` at 112,
``(pixel - 127.5) / 127.5`` RGB), normalised, mapped through ``emap`` (the
swapper graph's last initializer) and normalised again. The target face is
cropped by ``align.estimate_norm`` at 128 (the 112 template shifted right by 8
px, fitted to all five points), fed as RGB in [0, 1], and pasted back through
the inverse transform under insightface's mask (``paste_mask``). The five
points come from dlib's 68: eye centres, nose tip, mouth corners.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from visiovox.engines.face.align import Matrix, estimate_norm, five_points, norm_crop
from visiovox.engines.face.swap_base import BlendMode, FaceSwapEngine, PreparedSource
from visiovox.engines.face.types import Face, Image
from visiovox.models.cache import prepare_model

if TYPE_CHECKING:
    import onnxruntime as ort

SWAP_MODEL, EMBED_MODEL = "inswapper-128", "arcface-w600k-r50"
SWAP_SIZE, EMBED_SIZE = 128, 112
# insightface inswapper.get: the warped white crop counts as inside over 20
# (of 255); it is eroded by max(side // 10, 10) and blurred by a
# (2k + 1)-wide Gaussian, k = max(side // 20, 5), side the mask's sqrt(h * w).
MASK_THRESHOLD = 20.0
ERODE_SHARE, ERODE_MIN = 10, 10
BLUR_SHARE, BLUR_MIN = 20, 5


@dataclass(frozen=True)
class InSwapSource(PreparedSource):
    """The source identity as the swapper's 1x512 latent."""

    latent: npt.NDArray[np.float32]


def read_emap(model: Path) -> npt.NDArray[np.float32]:
    """The 512x512 identity map stored as the swapper graph's last initializer."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(model)).graph
    return np.asarray(numpy_helper.to_array(graph.initializer[-1]), dtype=np.float32)


def embed_input(image: Image, face: Face) -> npt.NDArray[np.float32]:
    """ArcFace's 1x3x112x112 input: ``norm_crop`` at 112, RGB, ``(pixel - 127.5) / 127.5``.

    insightface ``arcface_onnx.py`` uses mean and std 127.5 for graphs that do
    not normalise inside (w600k_r50 does not).
    """
    crop = norm_crop(image, five_points(face.points), EMBED_SIZE)
    return ((crop.astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1)[None]


def swap_input(target: Image, face: Face) -> tuple[npt.NDArray[np.float32], Matrix]:
    """The swapper's 1x3x128x128 input (RGB in [0, 1]) for ``face`` and its crop matrix."""
    import cv2

    matrix = estimate_norm(five_points(face.points), SWAP_SIZE)
    crop = cv2.warpAffine(target, matrix, (SWAP_SIZE, SWAP_SIZE), borderValue=0.0)
    return (crop.astype(np.float32) / 255.0).transpose(2, 0, 1)[None], matrix


def mask_kernels(side: int) -> tuple[int, int]:
    """insightface's erosion side and Gaussian half-width for a mask ``side`` pixels across."""
    return max(side // ERODE_SHARE, ERODE_MIN), max(side // BLUR_SHARE, BLUR_MIN)


@dataclass(frozen=True)
class PasteRegion:
    """The frame's part the crop lands in (rows ``top:bottom``, columns ``left:right``).

    insightface works on the whole frame; the mask is zero outside the warped
    crop (erosion only shrinks it, and the blur reaches no further than the
    erosion took away), so working in this region, with a margin of zeros wider
    than both kernels, gives the same pixels at a fraction of the cost.
    """

    top: int
    left: int
    bottom: int
    right: int
    inverse: Matrix  # crop pixels -> region pixels


def paste_region(matrix: Matrix, *, shape: tuple[int, int]) -> PasteRegion | None:
    """Where the crop taken by ``matrix`` goes back in a (height, width) frame; None: off it."""
    import cv2

    height, width = shape
    inverse = cv2.invertAffineTransform(matrix)
    corners = np.array([[0, 0], [SWAP_SIZE, 0], [0, SWAP_SIZE], [SWAP_SIZE, SWAP_SIZE]])
    placed = corners @ inverse[:, :2].T + inverse[:, 2]
    # The mask's side is at most the crop's diagonal in frame pixels.
    diagonal = int(SWAP_SIZE * np.sqrt(2.0 * abs(float(np.linalg.det(inverse[:, :2])))))
    erode, blur = mask_kernels(diagonal)
    margin = erode + 2 * blur + 2
    left = max(0, int(np.floor(placed[:, 0].min())) - margin)
    top = max(0, int(np.floor(placed[:, 1].min())) - margin)
    right = min(width, int(np.ceil(placed[:, 0].max())) + margin)
    bottom = min(height, int(np.ceil(placed[:, 1].max())) + margin)
    if right <= left or bottom <= top:
        return None
    local = np.array(inverse, dtype=np.float64)
    local[:, 2] -= (left, top)
    return PasteRegion(top=top, left=left, bottom=bottom, right=right, inverse=local)


def region_mask(region: PasteRegion) -> npt.NDArray[np.float32]:
    """insightface's paste mask over ``region``, in [0, 1]."""
    import cv2

    size = (region.right - region.left, region.bottom - region.top)
    white = np.full((SWAP_SIZE, SWAP_SIZE), 255.0, dtype=np.float32)
    mask = cv2.warpAffine(white, region.inverse, size, borderValue=0.0)
    mask[mask > MASK_THRESHOLD] = 255.0
    rows, cols = np.nonzero(mask == 255.0)
    if rows.size == 0:
        return np.zeros(mask.shape, dtype=np.float32)
    side = int(np.sqrt(float(rows.max() - rows.min()) * float(cols.max() - cols.min())))
    erode, blur = mask_kernels(side)
    mask = cv2.erode(mask, np.ones((erode, erode), dtype=np.uint8), iterations=1)
    mask = cv2.GaussianBlur(mask, (2 * blur + 1, 2 * blur + 1), 0)
    return np.asarray(mask / 255.0, dtype=np.float32)


def paste_mask(matrix: Matrix, *, shape: tuple[int, int]) -> npt.NDArray[np.float32]:
    """The whole (height, width) frame's alpha in [0, 1] under which the crop goes back."""
    alpha = np.zeros(shape, dtype=np.float32)
    region = paste_region(matrix, shape=shape)
    if region is not None:
        alpha[region.top : region.bottom, region.left : region.right] = region_mask(region)
    return alpha


def paste_back(target: Image, swapped: Image, matrix: Matrix, *, blend: float = 1.0) -> Image:
    """``swapped`` (the 128 crop) put back where ``matrix`` took it from, as insightface does.

    ``blend`` scales the mask (1: the reference). The reference's ``fake_diff``
    mask is computed there but never used, so it is left out here.
    """
    import cv2

    out = target.copy()
    region = paste_region(matrix, shape=target.shape[:2])
    if region is None:
        return out
    size = (region.right - region.left, region.bottom - region.top)
    back = cv2.warpAffine(swapped, region.inverse, size, borderValue=0.0)
    alpha = region_mask(region)[..., None] * float(min(blend, 1.0))
    part = out[region.top : region.bottom, region.left : region.right]
    mixed = alpha * back.astype(np.float32) + (1.0 - alpha) * part.astype(np.float32)
    # astype truncates, as the reference's fake_merged.astype(np.uint8) does.
    part[...] = mixed.astype(np.uint8)
    return out


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
        if self._embed is None or self._emap is None:
            raise RuntimeError("face.swap_inswapper is not loaded")
        name = self._embed.get_inputs()[0].name
        blob = embed_input(image, face)
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
        """``target`` with ``target_face`` swapped; ``mode`` does not apply (insightface's mask)."""
        assert isinstance(prepared, InSwapSource)
        if self._swap is None:
            raise RuntimeError("face.swap_inswapper is not loaded")
        if blend <= 0.0:
            return target.copy()
        blob, matrix = swap_input(target, target_face)
        feeds = {
            spec.name: blob if len(spec.shape) == 4 else prepared.latent
            for spec in self._swap.get_inputs()
        }
        output = np.asarray(self._swap.run(None, feeds)[0], dtype=np.float32)
        swapped = np.clip(output[0].transpose(1, 2, 0) * 255.0, 0, 255).astype(np.uint8)
        return paste_back(target, swapped, matrix, blend=blend)
