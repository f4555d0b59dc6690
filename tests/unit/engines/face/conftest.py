"""Face engines loaded once per session on dlib models assembled into a temporary cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faces import ASTRONAUT, HOPPER, derive_face, find_face
from visiovox.config import load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.embed import FaceEmbedder
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.swap_warp import WarpSwapper
from visiovox.engines.face.types import Image
from visiovox.media.image import read_image
from visiovox.models.engine_pool import EnginePool


@pytest.fixture(scope="session")
def face_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnginePool]:
    settings = load_settings(models={"cache_dir": tmp_path_factory.mktemp("face-models")})
    pool = EnginePool(settings=settings, device="cpu")
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def detector(face_pool: EnginePool) -> FaceDetector:
    return face_pool.get("face.detect", FaceDetector)


@pytest.fixture(scope="session")
def landmarker(face_pool: EnginePool) -> FaceLandmarker:
    return face_pool.get("face.landmarks", FaceLandmarker)


@pytest.fixture(scope="session")
def embedder(face_pool: EnginePool) -> FaceEmbedder:
    return face_pool.get("face.embed", FaceEmbedder)


@pytest.fixture(scope="session")
def swapper(face_pool: EnginePool) -> WarpSwapper:
    return face_pool.get("face.swap_warp", WarpSwapper)


@pytest.fixture(scope="session")
def astronaut() -> Image:
    return read_image(ASTRONAUT)


@pytest.fixture(scope="session")
def hopper() -> Image:
    return read_image(HOPPER)


@pytest.fixture(scope="session")
def other_face(detector: FaceDetector, landmarker: FaceLandmarker, astronaut: Image) -> Image:
    return derive_face(astronaut, find_face(detector, landmarker, astronaut).points)


@pytest.fixture(scope="session")
def other_face_png(tmp_path_factory: pytest.TempPathFactory, other_face: Image) -> Path:
    from visiovox.media.image import write_image

    path = tmp_path_factory.mktemp("faces") / "other.png"
    write_image(path, other_face)
    return path
