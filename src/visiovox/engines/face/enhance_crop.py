"""The face enhancers' crop, tensors and paste-back, as FaceFusion's ``face_enhancer`` runs them.

GFPGAN v1.4 and CodeFormer take a 512x512 RGB face aligned to the FFHQ
five-point template (``align.template_points("ffhq_512", 512)``), scaled to
[-1, 1] in NCHW; they answer the same layout. The restored face goes back
through the inverse transform under FaceFusion's box mask (``face_mask_blur``
0.3, no padding: a 38 px border zeroed, then a Gaussian blur of sigma 19),
and the result is mixed with the frame by ``blend`` (FaceFusion's
``face_enhancer_blend`` / 100) with ``cv2.addWeighted``.

One deliberate difference: FaceFusion warps the mask and the face back over
the whole frame; here only the rectangle the crop covers is warped (outside it
the mask is 0, so the pixels are the same), which is what makes a 720p frame
cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from visiovox.engines.face.align import Matrix, five_points, similarity_fit, template_points
from visiovox.engines.face.types import Image, Points

CROP_SIZE = 512
# FaceFusion's face_mask_blur default; the enhancer's box mask has no padding.
MASK_BLUR = 0.3
Tensor = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Region:
    """The part of the frame a crop covers: ``top:bottom``, ``left:right`` (exclusive)."""

    left: int
    top: int
    right: int
    bottom: int


def crop_matrix(points: Points) -> Matrix:
    """The 2x3 similarity taking the face (its 68 landmarks) onto the FFHQ 512 template."""
    return similarity_fit(five_points(points), template_points("ffhq_512", CROP_SIZE))


def crop_face(image: Image, matrix: Matrix) -> Image:
    """The aligned 512x512 face (edges replicated, as FaceFusion's warp does)."""
    import cv2

    # FaceFusion passes INTER_AREA, which cv2.warpAffine runs as bilinear.
    crop = cv2.warpAffine(
        image,
        matrix,
        (CROP_SIZE, CROP_SIZE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.asarray(crop, dtype=np.uint8)


def to_tensor(crop: Image) -> Tensor:
    """RGB uint8 HWC to the models' 1x3xHxW float32 in [-1, 1] (``prepare_crop_frame``)."""
    scaled = (crop.astype(np.float32) / 255.0 - 0.5) / 0.5
    return np.ascontiguousarray(scaled.transpose(2, 0, 1)[None], dtype=np.float32)


def from_tensor(output: npt.NDArray[np.floating]) -> Image:
    """The model's 3xHxW (or 1x3xHxW) output back to RGB uint8 (``normalize_crop_frame``)."""
    chw = np.asarray(output, dtype=np.float32).reshape(3, *np.shape(output)[-2:])
    unit = (np.clip(chw, -1.0, 1.0) + 1.0) / 2.0
    return np.asarray(np.round(unit.transpose(1, 2, 0) * 255.0), dtype=np.uint8)


@lru_cache(maxsize=4)
def box_mask(size: int = CROP_SIZE, blur: float = MASK_BLUR) -> npt.NDArray[np.float32]:
    """FaceFusion ``create_static_box_mask`` with no padding: 1 inside, fading to 0 at the edge."""
    import cv2

    blur_amount = int(size * 0.5 * blur)
    blur_area = max(blur_amount // 2, 1)
    mask = np.ones((size, size), dtype=np.float32)
    mask[:blur_area, :] = 0
    mask[-blur_area:, :] = 0
    mask[:, :blur_area] = 0
    mask[:, -blur_area:] = 0
    if blur_amount > 0:
        mask = np.asarray(cv2.GaussianBlur(mask, (0, 0), blur_amount * 0.25), dtype=np.float32)
    mask.setflags(write=False)
    return mask


def covered_region(matrix: Matrix, *, width: int, height: int) -> Region | None:
    """The frame's rectangle the crop lands on (None when it falls outside the frame)."""
    corners = np.array([[0, 0], [CROP_SIZE, 0], [0, CROP_SIZE], [CROP_SIZE, CROP_SIZE]], float)
    linear, shift = matrix[:, :2], matrix[:, 2]
    placed = (corners - shift) @ np.linalg.inv(linear).T
    left, top = np.floor(placed.min(axis=0)).astype(int) - 1
    right, bottom = np.ceil(placed.max(axis=0)).astype(int) + 2
    region = Region(max(left, 0), max(top, 0), min(right, width), min(bottom, height))
    if region.right <= region.left or region.bottom <= region.top:
        return None
    return region


def paste_back(frame: Image, restored: Image, matrix: Matrix, *, blend: float) -> Image:
    """``frame`` with ``restored`` put back under the box mask, mixed by ``blend`` (0..1).

    FaceFusion ``paste_back`` then ``blend_paste_frame``: the masked mix is
    written into a uint8 frame (numpy truncates), then ``cv2.addWeighted``
    weighs it ``blend`` against the frame.
    """
    import cv2

    height, width = frame.shape[:2]
    region = covered_region(matrix, width=width, height=height)
    result = frame.copy()
    if region is None or blend <= 0.0:
        return result
    # The inverse warp into the region alone: the crop-to-frame matrix moved by its corner.
    inverse = cv2.invertAffineTransform(matrix)
    inverse[:, 2] -= (region.left, region.top)
    size = (region.right - region.left, region.bottom - region.top)
    mask = np.clip(cv2.warpAffine(box_mask(), inverse, size), 0.0, 1.0)[..., None]
    face = cv2.warpAffine(restored, inverse, size, borderMode=cv2.BORDER_REPLICATE)
    rows, cols = slice(region.top, region.bottom), slice(region.left, region.right)
    under = frame[rows, cols]
    pasted = (mask * face + (1.0 - mask) * under).astype(np.uint8)
    share = float(min(blend, 1.0))
    result[rows, cols] = cv2.addWeighted(under, 1.0 - share, pasted, share, 0)
    return result
