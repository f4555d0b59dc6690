"""Shared by the unit tests that need Redis: one real embedded server per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from visiovox.embedded_redis import EmbeddedRedis


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(tmp_path_factory.mktemp("redis"), persist=False) as server:
        yield server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
