"""Five-point alignment against insightface's ``face_align`` numbers.

The expected matrices were produced by insightface's ``estimate_norm``
(python-package/insightface/utils/face_align.py: ``arcface_dst`` times
size/112, or times size/128 with x shifted by 8 times that, then
``skimage.transform.SimilarityTransform().estimate``) run with scikit-image
0.26 outside this repository on the five points written here, which are what
dlib's HOG box and 68 landmarks give on the fixtures. Nothing from the
reference packages is imported.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.faces import find_face
from visiovox.engines.face.align import (
    estimate_norm,
    five_points,
    norm_crop,
    similarity_fit,
    template_points,
)
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Image

# insightface face_align.arcface_dst.
ARCFACE_DST = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ]
)
# facexlib FaceRestoreHelper.face_template for 512 crops (GFPGAN, CodeFormer).
FFHQ_512 = np.array(
    [
        [192.98138, 239.94708],
        [318.90277, 240.1936],
        [256.63416, 314.01935],
        [201.26117, 371.41043],
        [313.08905, 371.15118],
    ]
)
# Five points (eyes, nose tip, mouth corners) of the fixtures' faces.
ASTRONAUT_5 = np.array(
    [[203.16667, 101.5], [246.5, 104.166664], [225.0, 127.0], [201.0, 139.0], [246.0, 141.0]]
)
HOPPER_5 = np.array(
    [[223.66667, 192.33333], [305.33334, 189.16667], [267.0, 238.0], [233.0, 281.0], [300.0, 277.0]]
)
# insightface estimate_norm(points, size) on them.
REFERENCE = {
    ("astronaut", 112): [[0.870744, 0.043622, -144.655819], [-0.043622, 0.870744, -25.008588]],
    ("astronaut", 128): [[0.870744, 0.043622, -136.655819], [-0.043622, 0.870744, -25.008588]],
    ("hopper", 112): [[0.448525, -0.01209, -60.34458], [0.01209, 0.448525, -36.940526]],
    ("hopper", 128): [[0.448525, -0.01209, -52.34458], [0.01209, 0.448525, -36.940526]],
}
POINTS = {"astronaut": ASTRONAUT_5, "hopper": HOPPER_5}


@pytest.mark.parametrize(("face", "size"), sorted(REFERENCE))
def test_estimate_norm_equals_insightface(face: str, size: int) -> None:
    matrix = estimate_norm(POINTS[face], size)
    assert matrix.shape == (2, 3)
    assert np.abs(matrix - np.array(REFERENCE[(face, size)])).max() < 1e-3


def test_templates_are_the_references() -> None:
    assert np.allclose(template_points("arcface_112", 112), ARCFACE_DST, atol=1e-4)
    # FaceFusion's arcface_128 is the 112 template moved right by 8 px.
    assert np.allclose(
        template_points("arcface_128", 128), ARCFACE_DST + np.array([8.0, 0.0]), atol=1e-4
    )
    assert np.allclose(template_points("ffhq_512", 512), FFHQ_512, atol=1e-4)
    # estimate_norm(224) scales the 112 template by 2; estimate_norm(256) the 128 one.
    assert np.allclose(estimate_norm(ARCFACE_DST, 224)[:, :2], 2 * np.eye(2), atol=1e-6)
    assert np.allclose(estimate_norm(ARCFACE_DST, 256), [[2, 0, 16], [0, 2, 0]], atol=1e-6)
    with pytest.raises(ValueError):
        estimate_norm(ARCFACE_DST, 100)


def test_similarity_fit_weighs_all_five_points() -> None:
    # An exact similarity is recovered: scale 2, rotation 30 degrees, shift (5, -3).
    angle = np.deg2rad(30.0)
    linear = 2.0 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = ARCFACE_DST @ linear.T + [5.0, -3.0]
    assert np.allclose(similarity_fit(ARCFACE_DST, moved), np.c_[linear, [5.0, -3.0]])
    # One point 6 px off (RANSAC at 3 px would drop it): least squares still
    # weighs it, a = 1 + 6 (x3 - i y3) / sum |p - mean|^2 by hand (p centred).
    nudged = ARCFACE_DST.copy()
    nudged[3] += [6.0, 0.0]
    fit = similarity_fit(ARCFACE_DST, nudged)
    centred = ARCFACE_DST - ARCFACE_DST.mean(axis=0)
    a = (centred[3, 0] * 6.0 + 1j * -centred[3, 1] * 6.0) / np.sum(centred**2)
    assert fit[0, 0] == pytest.approx(1.0 + a.real, abs=1e-9)
    assert fit[1, 0] == pytest.approx(a.imag, abs=1e-9)


def test_norm_crop_is_insightfaces_warp_on_the_fixture(
    detector: FaceDetector, landmarker: FaceLandmarker, astronaut: Image
) -> None:
    face = find_face(detector, landmarker, astronaut)
    points = five_points(face.points)
    assert np.abs(points - ASTRONAUT_5).max() < 1e-3
    crop = norm_crop(astronaut, points, 128)
    reference = np.array(REFERENCE[("astronaut", 128)])
    expected = cv2.warpAffine(astronaut, reference, (128, 128), borderValue=0.0)
    assert crop.shape == (128, 128, 3)
    assert np.abs(crop.astype(int) - expected.astype(int)).mean() < 0.5
    # The chin (landmark 8) sits inside the 128 crop, near y = 120 (issue 16: 130 before).
    chin = reference @ np.r_[face.points[8], 1.0]
    assert 115 < chin[1] < 124
