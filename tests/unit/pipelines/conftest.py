"""Real engines, loaded once per test session, on models assembled into a temporary cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from visiovox.config import Settings, load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.pool import EnginePool
from visiovox.pipelines.testing import LocalContext


@pytest.fixture(scope="session")
def model_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(models={"cache_dir": tmp_path_factory.mktemp("models")})


@pytest.fixture(scope="session")
def engine_pool(model_settings: Settings) -> Iterator[EnginePool]:
    pool = EnginePool(settings=model_settings, device="cpu")
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def faces(engine_pool: EnginePool) -> tuple[FaceDetector, FaceLandmarker]:
    """The face detector and landmarker, for checking what the face pipelines wrote."""
    return (
        engine_pool.get("face.detect", FaceDetector),
        engine_pool.get("face.landmarks", FaceLandmarker),
    )


@pytest.fixture
def ctx(tmp_path: Path, engine_pool: EnginePool) -> LocalContext:
    return LocalContext(root=tmp_path / "job", pool=engine_pool)
