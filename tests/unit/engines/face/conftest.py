"""Face engines loaded once per session on dlib models assembled into a temporary cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faces import ASTRONAUT, HOPPER, derive_face, find_face
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.embed import FaceEmbedder
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.swap_warp import WarpSwapper
from visiovox.engines.face.types import Image
from visiovox.engines.pool import EnginePool
from visiovox.media.image import read_image


@pytest.fixture(scope="session")
def detector(bundled_pool: EnginePool) -> FaceDetector:
    return bundled_pool.get("face.detect", FaceDetector)


@pytest.fixture(scope="session")
def landmarker(bundled_pool: EnginePool) -> FaceLandmarker:
    return bundled_pool.get("face.landmarks", FaceLandmarker)


@pytest.fixture(scope="session")
def embedder(bundled_pool: EnginePool) -> FaceEmbedder:
    return bundled_pool.get("face.embed", FaceEmbedder)


@pytest.fixture(scope="session")
def swapper(bundled_pool: EnginePool) -> WarpSwapper:
    return bundled_pool.get("face.swap_warp", WarpSwapper)


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
