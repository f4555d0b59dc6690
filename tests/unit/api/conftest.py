"""The gateway in-process over a real Redis (the embedded server); no worker runs.

Each test gets its own key prefix and storage folder, so jobs stay queued and
tests never see each other's data.
"""

from __future__ import annotations

import sys
import types
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.helpers import LISTEN_SPEC
from visiovox.api.app import create_app
from visiovox.config import Settings, load_settings
from visiovox.embedded_redis import EmbeddedRedis
from visiovox.jobs.redis_client import JobDomain, build_domain
from visiovox.pipelines import registry
from visiovox.pipelines.spec import PipelineSpec

UPLOAD_CAP = 200_000
SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(redis_server: EmbeddedRedis, tmp_path: Path) -> SettingsFactory:
    """Settings for one test; keyword sections override the defaults below."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "redis": {"url": redis_server.url, "prefix": f"t{uuid.uuid4().hex[:8]}"},
            "storage": {"root": tmp_path / "data"},
            "auth": {"enabled": "off"},
            "uploads": {"max_bytes": UPLOAD_CAP, "max_duration_s": 5.0},
            "gateway": {"sse_keepalive_s": 0.3},
        }
        for section, value in overrides.items():
            values[section] = {**values.get(section, {}), **value}
        return load_settings(**values)

    return make


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    return make_settings()


@pytest.fixture
def domain(settings: Settings) -> JobDomain:
    return build_domain(settings)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The gateway (lifespan on) for ``settings``: auth off, caller ``anonymous``."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def listen_pipeline(monkeypatch: pytest.MonkeyPatch) -> Iterator[PipelineSpec]:
    """Registers the test-only ``listen`` pipeline for one test."""
    module = types.ModuleType("visiovox_test_listen")
    module.SPEC = LISTEN_SPEC  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(registry.PIPELINES, "listen", module.__name__)
    registry.get_spec.cache_clear()
    yield LISTEN_SPEC
    registry.get_spec.cache_clear()
