"""Settings: the YAML documents every setting with its default; the environment overrides it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from visiovox.config import Settings

DEFAULT_YAML = Path(__file__).parents[2] / "configs" / "default.yaml"


def test_default_yaml_lists_every_setting_with_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("VISIOVOX_"):
            monkeypatch.delenv(name)
    documented = yaml.safe_load(DEFAULT_YAML.read_text())
    assert documented == Settings.model_construct().model_dump(mode="json")


def test_environment_overrides_the_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISIOVOX_CONFIG", str(DEFAULT_YAML))
    monkeypatch.setenv("VISIOVOX_REDIS__URL", "redis://example:6379/2")
    monkeypatch.setenv("VISIOVOX_GATEWAY__PORT", "9001")
    settings = Settings()
    assert settings.redis.url == "redis://example:6379/2"
    assert settings.gateway.port == 9001
    assert settings.jobs.lease_s == 30.0


@pytest.mark.parametrize(
    ("host", "mode", "enabled"),
    [
        ("127.0.0.1", "auto", False),
        ("localhost", "auto", False),
        ("0.0.0.0", "auto", True),
        ("127.0.0.1", "on", True),
        ("0.0.0.0", "off", False),
    ],
)
def test_auth_is_off_by_default_only_on_loopback(host: str, mode: str, enabled: bool) -> None:
    settings = Settings(gateway={"host": host}, auth={"enabled": mode})
    assert settings.auth_enabled is enabled


@pytest.mark.parametrize("prefix", ["", "vv:prod", "vv.prod", "a b"])
def test_a_redis_prefix_that_could_name_another_deployments_keys_is_refused(prefix: str) -> None:
    # ':' or '.' in one prefix would put its keys or queues inside another's.
    with pytest.raises(ValueError, match="prefix"):
        Settings(redis={"prefix": prefix})
