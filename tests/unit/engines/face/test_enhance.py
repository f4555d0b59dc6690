"""GFPGAN and CodeFormer engines on the stand-in graphs of ``tests/enhancers.py``."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.enhancers import stand_in_settings
from tests.faces import find_face
from visiovox.config import Settings, load_settings
from visiovox.engines.face.align import five_points, template_points
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.enhance_codeformer import CodeFormerEnhancer
from visiovox.engines.face.enhance_crop import crop_matrix
from visiovox.engines.face.enhance_gfpgan import GfpganEnhancer
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Image
from visiovox.models.errors import ModelUnavailable


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return stand_in_settings(tmp_path_factory.mktemp("enhancers"))


@pytest.fixture(scope="module")
def gfpgan(settings: Settings) -> GfpganEnhancer:
    engine = GfpganEnhancer(settings=settings, device="cpu")
    engine.load()
    return engine


@pytest.fixture(scope="module")
def codeformer(settings: Settings) -> CodeFormerEnhancer:
    engine = CodeFormerEnhancer(settings=settings, device="cpu")
    engine.load()
    return engine


def patch(image: Image, x: float, y: float, half: int = 1) -> np.ndarray:
    col, row = round(float(x)), round(float(y))
    return image[row - half : row + half + 1, col - half : col + half + 1].astype(np.float64)


def test_gfpgan_marks_land_on_the_faces_landmarks(
    gfpgan: GfpganEnhancer,
    detector: FaceDetector,
    landmarker: FaceLandmarker,
    astronaut: Image,
) -> None:
    face = find_face(detector, landmarker, astronaut)
    result = gfpgan.enhance(astronaut, face, blend=1.0)
    # Where the crop's template points fall in the image: within the fit's residual
    # (under 6 px on this face) of the landmarks, and white there (the crop is about
    # 3x the face, so a 5 px disc is about 1.7 px in the image).
    inverse = cv2.invertAffineTransform(crop_matrix(face.points))
    placed = template_points("ffhq_512", 512) @ inverse[:, :2].T + inverse[:, 2]
    assert np.linalg.norm(placed - five_points(face.points), axis=1).max() < 6
    for x, y in placed:
        assert patch(result, x, y, half=0).min() > 200, (x, y)
        assert patch(astronaut, x, y, half=0).min() < 200, (x, y)
    # Between the eyes and beside the mouth the stand-in kept the face (resampled twice).
    left_eye, right_eye = five_points(face.points)[:2]
    between = (left_eye + right_eye) / 2
    assert np.abs(patch(result, *between) - patch(astronaut, *between)).mean() < 12
    assert np.array_equal(result[300:], astronaut[300:])  # outside the crop: untouched


def test_gfpgan_blend_mixes_and_zero_keeps_the_image(
    gfpgan: GfpganEnhancer,
    detector: FaceDetector,
    landmarker: FaceLandmarker,
    astronaut: Image,
) -> None:
    face = find_face(detector, landmarker, astronaut)
    nose = five_points(face.points)[2]
    full = patch(gfpgan.enhance(astronaut, face, blend=1.0), *nose, half=0)
    mixed = patch(gfpgan.enhance(astronaut, face, blend=0.5), *nose, half=0)
    expected = 0.5 * full + 0.5 * patch(astronaut, *nose, half=0)
    assert np.abs(mixed - expected).max() <= 1.0
    assert np.array_equal(gfpgan.enhance(astronaut, face, blend=0.0), astronaut)


def test_codeformer_gets_its_fidelity_weight(
    codeformer: CodeFormerEnhancer,
    detector: FaceDetector,
    landmarker: FaceLandmarker,
    astronaut: Image,
) -> None:
    face = find_face(detector, landmarker, astronaut)
    crop = np.full((512, 512, 3), 200, dtype=np.uint8)
    # weight 1: the face as it came; 0.5: halved in [-1, 1], so 200 -> 200 / 2 + 63.75.
    assert np.abs(codeformer.restore(crop, fidelity=1.0).astype(int) - 200).max() <= 1
    assert np.abs(codeformer.restore(crop, fidelity=0.5).astype(int) - 164).max() <= 1
    assert codeformer.restore(crop, fidelity=0.0).max() == 128  # 0 in [-1, 1]
    nose = five_points(face.points)[2]
    original = patch(astronaut, *nose)
    result = patch(codeformer.enhance(astronaut, face, blend=1.0, fidelity=0.5), *nose)
    assert np.abs(result - (original / 2 + 63.75)).mean() < 6


def test_a_model_missing_from_the_cache_names_the_pull_command(tmp_path: Path) -> None:
    settings = load_settings(models={"cache_dir": tmp_path, "offline": True})
    for engine in (GfpganEnhancer, CodeFormerEnhancer):
        with pytest.raises(ModelUnavailable) as caught:
            engine(settings=settings, device="cpu").load()
        assert caught.value.code == "model_unavailable"
        assert f"visiovox models pull {engine.model_id}" in caught.value.message
