"""Face engines for the lip-sync engine tests, on dlib models assembled into a temporary cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faces import ASTRONAUT, find_face
from visiovox.config import load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Face, Image
from visiovox.media.image import read_image
from visiovox.models.engine_pool import EnginePool


@pytest.fixture(scope="session")
def lipsync_face_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnginePool]:
    settings = load_settings(models={"cache_dir": tmp_path_factory.mktemp("lipsync-models")})
    pool = EnginePool(settings=settings, device="cpu")
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def faces(lipsync_face_pool: EnginePool) -> tuple[FaceDetector, FaceLandmarker]:
    return (
        lipsync_face_pool.get("face.detect", FaceDetector),
        lipsync_face_pool.get("face.landmarks", FaceLandmarker),
    )


@pytest.fixture(scope="session")
def portrait() -> Image:
    return read_image(ASTRONAUT)


@pytest.fixture(scope="session")
def portrait_face(faces: tuple[FaceDetector, FaceLandmarker], portrait: Image) -> Face:
    return find_face(*faces, portrait)
