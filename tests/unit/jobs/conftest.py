"""A real Redis (the embedded server) and a fresh job domain per test."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from visiovox.config import Settings, load_settings
from visiovox.embedded_redis import EmbeddedRedis
from visiovox.jobs.redis_client import JobDomain, build_domain


@pytest.fixture
def settings(redis_server: EmbeddedRedis, tmp_path: Path) -> Settings:
    return load_settings(
        redis={"url": redis_server.url, "prefix": f"t{uuid.uuid4().hex[:8]}"},
        storage={"root": tmp_path / "data", "retention_s": 3600},
        jobs={"lease_s": 0.3, "max_attempts": 2, "progress_max_hz": 10, "cancel_poll_s": 0},
    )


@pytest.fixture
def domain(settings: Settings) -> JobDomain:
    return build_domain(settings)
