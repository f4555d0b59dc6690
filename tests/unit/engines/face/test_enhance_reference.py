"""The face enhancers' pre- and post-processing against FaceFusion's ``face_enhancer``.

Reference: FaceFusion ``facefusion/processors/modules/face_enhancer/core.py``
(``prepare_crop_frame``, ``normalize_crop_frame``, ``forward``,
``blend_paste_frame``), ``facefusion/face_helper.py`` (``WARP_TEMPLATES
['ffhq_512']``, ``estimate_matrix_by_face_landmark_5``: ``cv2.estimateAffinePartial2D``
with RANSAC at 100 px, ``warp_face_by_face_landmark_5``, ``paste_back``) and
``facefusion/face_masker.py`` (``create_static_box_mask``); the numbers below
are written from that code, nothing is imported from it.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from tests.faces import find_face
from visiovox.engines.face.align import five_points
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.enhance_crop import (
    CROP_SIZE,
    box_mask,
    crop_face,
    crop_matrix,
    from_tensor,
    paste_back,
    to_tensor,
)
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Image

# FaceFusion WARP_TEMPLATES['ffhq_512'] (shares of the side), times 512.
FFHQ_512 = (
    np.array(
        [
            [0.37691676, 0.46864664],
            [0.62285697, 0.46912813],
            [0.50123859, 0.61331904],
            [0.39308822, 0.72541100],
            [0.61150205, 0.72490465],
        ]
    )
    * 512
)
# cv2.estimateAffinePartial2D(points, FFHQ_512, method=cv2.RANSAC, ransacReprojThreshold=100),
# FaceFusion's fit, on the astronaut's five points (dlib HOG box + 68 landmarks).
ASTRONAUT_5 = np.array(
    [[203.16667, 101.5], [246.5, 104.166664], [225.0, 127.0], [201.0, 139.0], [246.0, 141.0]]
)
FACEFUSION_ASTRONAUT = np.array(
    [[3.017855, 0.147305, -438.481388], [-0.147305, 3.017855, -29.398139]]
)
# create_static_box_mask((512, 512), face_mask_blur=0.3, padding=(0, 0, 0, 0)):
# blur_amount = int(512 * 0.5 * 0.3) = 76, blur_area = 76 // 2 = 38 rows and columns
# zeroed at each edge, then GaussianBlur with sigma 76 * 0.25 = 19.
BLUR_AREA, SIGMA = 38, 19.0


def gaussian_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def facefusion_paste(frame: Image, crop: Image, matrix: np.ndarray, blend: float) -> Image:
    """FaceFusion's paste_back then blend_paste_frame, whole frame, as written there."""
    inverse = cv2.invertAffineTransform(matrix)
    size = frame.shape[:2][::-1]
    mask = cv2.warpAffine(box_mask(), inverse, size).clip(0, 1)
    face = cv2.warpAffine(crop, inverse, size, borderMode=cv2.BORDER_REPLICATE)
    pasted = frame.copy()
    for channel in range(3):
        pasted[:, :, channel] = (
            mask * face[:, :, channel] + (1 - mask) * frame[:, :, channel]
        )  # float into uint8: numpy truncates, as in FaceFusion
    return np.asarray(cv2.addWeighted(frame, 1 - blend, pasted, blend, 0), dtype=np.uint8)


def test_a_face_on_the_template_maps_onto_it() -> None:
    # Points at half the template's scale, shifted by (100, 50): the crop must
    # scale them by 2 and shift them back, exactly.
    points = np.zeros((68, 2), dtype=np.float32)
    small = FFHQ_512 / 2 + (100, 50)
    points[36:42], points[42:48] = small[0], small[1]
    points[30], points[48], points[54] = small[2], small[3], small[4]
    matrix = crop_matrix(points)
    assert matrix == pytest.approx(np.array([[2.0, 0.0, -200.0], [0.0, 2.0, -100.0]]), abs=1e-4)


def test_the_crop_matrix_is_facefusions_on_the_fixture(
    detector: FaceDetector, landmarker: FaceLandmarker, astronaut: Image
) -> None:
    face = find_face(detector, landmarker, astronaut)
    assert five_points(face.points) == pytest.approx(ASTRONAUT_5, abs=1e-3)
    matrix = crop_matrix(face.points)
    # Least squares over all five points equals RANSAC at 100 px here (every point an inlier).
    assert np.abs(matrix[:, :2] - FACEFUSION_ASTRONAUT[:, :2]).max() < 1e-4
    assert np.abs(matrix[:, 2] - FACEFUSION_ASTRONAUT[:, 2]).max() < 1e-2
    crop = crop_face(astronaut, matrix)
    assert crop.shape == (CROP_SIZE, CROP_SIZE, 3)
    reference = cv2.warpAffine(
        astronaut,
        FACEFUSION_ASTRONAUT,
        (512, 512),
        borderMode=cv2.BORDER_REPLICATE,
        flags=cv2.INTER_AREA,
    )
    assert np.abs(crop.astype(int) - reference.astype(int)).max() <= 1


def test_tensors_are_rgb_in_minus_one_to_one() -> None:
    crop = np.zeros((512, 512, 3), dtype=np.uint8)
    crop[0, 0] = (255, 0, 0)  # pure red, RGB
    crop[0, 1] = (0, 255, 128)
    tensor = to_tensor(crop)
    assert tensor.shape == (1, 3, 512, 512) and tensor.dtype == np.float32
    # prepare_crop_frame: (x / 255 - 0.5) / 0.5 in RGB order, NCHW.
    assert tensor[0, :, 0, 0].tolist() == [1.0, -1.0, -1.0]
    assert tensor[0, :, 0, 1] == pytest.approx([-1.0, 1.0, 128 / 127.5 - 1.0], abs=1e-6)
    # normalize_crop_frame: clip to [-1, 1], (x + 1) / 2 * 255, rounded (half to even).
    output = np.zeros((1, 3, 2, 2), dtype=np.float32)
    output[0, :, 0, 0] = (-1.0, 0.0, 1.0)
    output[0, :, 0, 1] = (-3.0, 5.0, 0.5)
    image = from_tensor(output)
    assert image.dtype == np.uint8
    assert image[0, 0].tolist() == [0, 128, 255]
    assert image[0, 1].tolist() == [0, 255, 191]


def test_the_box_mask_is_facefusions() -> None:
    mask = box_mask()
    assert mask.shape == (512, 512) and mask.dtype == np.float32
    # A step at 37.5 blurred by sigma 19: Phi(0.5 / 19) on its first inner pixel, ...
    assert mask[256, BLUR_AREA] == pytest.approx(gaussian_cdf(0.5 / SIGMA), abs=2e-3)
    assert mask[256, BLUR_AREA - 1] == pytest.approx(gaussian_cdf(-0.5 / SIGMA), abs=2e-3)
    # ... and at the border, the band and its reflection: 2 * (1 - Phi(37.5 / 19)).
    assert mask[256, 0] == pytest.approx(2 * (1 - gaussian_cdf(37.5 / SIGMA)), abs=2e-3)
    assert mask[256, 256] == pytest.approx(1.0, abs=1e-5)
    assert np.allclose(mask, mask.T, atol=1e-6) and np.allclose(mask, mask[::-1], atol=1e-6)


@pytest.mark.parametrize("blend", [1.0, 0.8, 0.35])
def test_paste_back_equals_facefusions_whole_frame_paste(
    detector: FaceDetector, landmarker: FaceLandmarker, astronaut: Image, blend: float
) -> None:
    face = find_face(detector, landmarker, astronaut)
    matrix = crop_matrix(face.points)
    restored = 255 - crop_face(astronaut, matrix)  # anything that differs from the crop
    ours = paste_back(astronaut, restored, matrix, blend=blend)
    assert np.array_equal(ours, facefusion_paste(astronaut, restored, matrix, blend))
    assert not np.array_equal(ours, astronaut)


def test_paste_back_of_a_face_partly_outside_the_frame(astronaut: Image) -> None:
    # A crop that lands over the frame's top-left corner: only the visible part changes.
    matrix = np.array([[4.0, 0.0, 200.0], [0.0, 4.0, 150.0]])
    restored = np.full((512, 512, 3), 255, dtype=np.uint8)
    ours = paste_back(astronaut, restored, matrix, blend=1.0)
    assert np.array_equal(ours, facefusion_paste(astronaut, restored, matrix, 1.0))
    assert np.array_equal(ours[200:], astronaut[200:])
