"""Five-point face alignment exactly as InsightFace and FaceFusion run it.

Every engine that feeds a model an aligned face (ArcFace, inswapper, the face
enhancers) takes its crop from here, so the crop is the one the weights were
trained on. ``similarity_fit`` is the least-squares similarity (rotation,
uniform scale, translation; no reflection) over all five points, which is what
insightface's ``estimate_norm`` gets from skimage's ``SimilarityTransform``
(Umeyama's method); OpenCV's ``estimateAffinePartial2D`` is not used, since its
default RANSAC threshold of 3 px drops landmarks (a smiling mouth's corners).

Templates are FaceFusion's normalised ``WARP_TEMPLATE_SET`` (``face_helper.py``)
times the crop's side: ``arcface_112`` is insightface's ``arcface_dst``,
``arcface_128`` the same points shifted right by 8 px in a 128 crop
(``estimate_norm`` for sizes that are multiples of 128: ratio size/128, x +8
times it), ``ffhq_512`` facexlib's 512 FFHQ template that GFPGAN and CodeFormer
were trained on.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from visiovox.engines.face.types import Image, Points

Matrix = npt.NDArray[np.float64]
TemplateName = Literal["arcface_112", "arcface_128", "ffhq_512"]

# Five points (left eye, right eye, nose tip, left and right mouth corner) as
# shares of the crop's side, FaceFusion face_helper.WARP_TEMPLATE_SET.
TEMPLATES: dict[TemplateName, npt.NDArray[np.float64]] = {
    "arcface_112": np.array(
        [
            [38.2946, 51.6963],
            [73.5318, 51.5014],
            [56.0252, 71.7366],
            [41.5493, 92.3655],
            [70.7299, 92.2041],
        ]
    )
    / 112.0,
    "arcface_128": np.array(
        [
            [46.2946, 51.6963],
            [81.5318, 51.5014],
            [64.0252, 71.7366],
            [49.5493, 92.3655],
            [78.7299, 92.2041],
        ]
    )
    / 128.0,
    "ffhq_512": np.array(
        [
            [192.98138, 239.94708],
            [318.90277, 240.1936],
            [256.63416, 314.01935],
            [201.26117, 371.41043],
            [313.08905, 371.15118],
        ]
    )
    / 512.0,
}


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


def template_points(name: TemplateName, size: int) -> npt.NDArray[np.float64]:
    """The template ``name``'s five points in a ``size`` x ``size`` crop."""
    return TEMPLATES[name] * float(size)


def similarity_fit(src_points: npt.ArrayLike, dst_points: npt.ArrayLike) -> Matrix:
    """The 2x3 similarity taking ``src_points`` onto ``dst_points`` by least squares.

    In two dimensions Umeyama's solution without reflection is the complex
    least-squares fit ``dst - mean = a * (src - mean)`` with ``a = s * e^(i theta)``.
    """
    src = np.asarray(src_points, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst_points, dtype=np.float64).reshape(-1, 2)
    if src.shape != dst.shape or len(src) < 2:
        raise ValueError("a similarity needs two or more matching points")
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    z_src = (src - src_mean) @ np.array([1.0, 1.0j])
    z_dst = (dst - dst_mean) @ np.array([1.0, 1.0j])
    spread = float(np.sum(np.abs(z_src) ** 2))
    if spread < 1e-12:
        raise ValueError("the face's landmarks are degenerate")
    a = complex(np.sum(np.conj(z_src) * z_dst)) / spread
    linear = np.array([[a.real, -a.imag], [a.imag, a.real]])
    return np.asarray(np.c_[linear, dst_mean - linear @ src_mean], dtype=np.float64)


def estimate_norm(points5: npt.ArrayLike, size: int = 112) -> Matrix:
    """insightface ``face_align.estimate_norm``: the ArcFace crop's 2x3 matrix.

    Sizes that are multiples of 112 scale the 112 template; other multiples of
    128 scale the 128 one (the 112 template shifted right by 8 px).
    """
    if size % 112 == 0:
        template = template_points("arcface_112", size)
    elif size % 128 == 0:
        template = template_points("arcface_128", size)
    else:
        raise ValueError(f"ArcFace crops are multiples of 112 or 128 pixels, not {size}")
    return similarity_fit(points5, template)


def norm_crop(image: Image, points5: npt.ArrayLike, size: int = 112) -> Image:
    """insightface ``face_align.norm_crop``: the aligned ``size`` x ``size`` face."""
    import cv2

    matrix = estimate_norm(points5, size)
    return np.asarray(cv2.warpAffine(image, matrix, (size, size), borderValue=0.0), dtype=np.uint8)
