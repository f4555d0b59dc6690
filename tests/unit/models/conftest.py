"""Small manifests and settings around a loopback mirror, for download tests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from visiovox.config import Settings, get_settings, load_settings
from visiovox.models.manifest import ModelEntry


def payload(size: int, seed: int = 7) -> bytes:
    """``size`` bytes that are not all alike, so a misplaced range changes the hash."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def entry_dict(
    *, model_id: str, files: dict[str, bytes], sources: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": model_id,
        "task": "test",
        "engine": "test.tiny",
        "license": "MIT",
        "files": [
            {"path": name, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
            for name, body in files.items()
        ],
        "sources": sources,
    }


def url_entry(model_id: str, files: dict[str, bytes], base_url: str) -> ModelEntry:
    """An entry whose one source is the loopback mirror at ``base_url/files/<name>``."""
    source = {"type": "url", "files": {name: f"{base_url}/files/{name}" for name in files}}
    return ModelEntry.model_validate(entry_dict(model_id=model_id, files=files, sources=[source]))


def write_manifest(folder: Path, entries: list[dict[str, Any]]) -> Path:
    path = folder / "models.yaml"
    path.write_text(yaml.safe_dump({"models": entries}), encoding="utf-8")
    return path


def write_config(folder: Path, *, manifest: Path, **models: Any) -> Path:
    """A config file naming ``manifest`` and a cache under ``folder``, for CLI processes."""
    config = {"models": {"cache_dir": str(folder / "cache"), "manifest": str(manifest), **models}}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def settings_for(folder: Path, *, manifest: Path, **models: Any) -> Settings:
    return load_settings(
        models={"cache_dir": folder / "cache", "manifest": manifest, **models},
        engines={"memory_budget_mb": 0},
    )


@pytest.fixture(autouse=True)
def no_offline_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Download tests assume the network switches are off unless a test turns them on."""
    for name in ("VISIOVOX_OFFLINE", "HF_HUB_OFFLINE", "VISIOVOX_CONFIG", "HF_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


def subprocess_env(**extra: str) -> dict[str, str]:
    """This interpreter's environment and import path, for ``python -m visiovox`` children."""
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("VISIOVOX_", "HF_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.update(extra)
    return env
