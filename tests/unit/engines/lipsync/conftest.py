"""Face engines for the lip-sync engine tests, on dlib models assembled into a temporary cache."""

from __future__ import annotations

import pytest

from tests.faces import ASTRONAUT, find_face
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Face, Image
from visiovox.engines.pool import EnginePool
from visiovox.media.image import read_image


@pytest.fixture(scope="session")
def faces(bundled_pool: EnginePool) -> tuple[FaceDetector, FaceLandmarker]:
    return (
        bundled_pool.get("face.detect", FaceDetector),
        bundled_pool.get("face.landmarks", FaceLandmarker),
    )


@pytest.fixture(scope="session")
def portrait() -> Image:
    return read_image(ASTRONAUT)


@pytest.fixture(scope="session")
def portrait_face(faces: tuple[FaceDetector, FaceLandmarker], portrait: Image) -> Face:
    return find_face(*faces, portrait)
