"""One engine pool for the engine tests, on bundled models assembled into a temporary cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from visiovox.config import load_settings
from visiovox.engines.pool import EnginePool


@pytest.fixture(scope="session")
def bundled_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnginePool]:
    """Engines loaded once per session (their models assembled once), shared by all tests."""
    settings = load_settings(models={"cache_dir": tmp_path_factory.mktemp("engine-models")})
    pool = EnginePool(settings=settings, device="cpu")
    yield pool
    pool.close()
