"""Files pinned by md5 (all the Piper catalogue publishes): fetched, checked, refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.unit.models.conftest import payload
from tests.unit.models.loopback import Mirror, serve
from visiovox.config import load_settings
from visiovox.models.cache import MARKER, ensure_model, is_installed, is_ready, read_marker
from visiovox.models.errors import ModelUnavailable
from visiovox.models.manifest import ModelEntry, ModelFile, get_manifest
from visiovox.models.transfer import FetchOptions

BODY = payload(300_000, seed=3)
CONFIG = b'{"audio": {"sample_rate": 22050}, "language": {"code": "pt_BR"}}'
TAG = "v1.0.0"
REPO_PATH = f"/acme/voices/resolve/{TAG}"


def _md5(body: bytes) -> str:
    return hashlib.md5(body).hexdigest()


def _entry(*, source: dict[str, object], onnx_md5: str | None = None) -> ModelEntry:
    return ModelEntry.model_validate(
        {
            "id": "piper-tiny-medium",
            "task": "tts",
            "engine": "test.tiny",
            "license": "MIT",
            "voice": "tiny",
            "language": "pt_BR",
            "files": [
                {"path": "tiny.onnx", "md5": onnx_md5 or _md5(BODY), "size": len(BODY)},
                {"path": "tiny.onnx.json", "md5": _md5(CONFIG), "size": len(CONFIG)},
            ],
            "sources": [source],
        }
    )


def _hf_source() -> dict[str, object]:
    return {
        "type": "hf",
        "repo": "acme/voices",
        "revision": TAG,
        "files": {"tiny.onnx": "pt/tiny.onnx", "tiny.onnx.json": "pt/tiny.onnx.json"},
    }


def _hub() -> Mirror:
    return Mirror(
        files={f"{REPO_PATH}/pt/tiny.onnx": BODY, f"{REPO_PATH}/pt/tiny.onnx.json": CONFIG}
    )


def test_an_md5_pinned_voice_comes_from_the_hub_at_its_tag(tmp_path: Path) -> None:
    entry = _entry(source=_hf_source())
    with serve(_hub()) as server:
        folder = ensure_model(entry, tmp_path, options=FetchOptions(hf_endpoint=server.url))
    assert (folder / "tiny.onnx").read_bytes() == BODY
    assert is_ready(entry, tmp_path)
    assert read_marker(folder)["tiny.onnx"].digest == f"md5:{_md5(BODY)}"


def test_an_md5_mismatch_is_refused_and_nothing_is_installed(tmp_path: Path) -> None:
    entry = _entry(source=_hf_source(), onnx_md5="0" * 32)
    with serve(_hub()) as server, pytest.raises(ModelUnavailable) as caught:
        ensure_model(entry, tmp_path, options=FetchOptions(hf_endpoint=server.url))
    assert f"md5:{'0' * 32}" in caught.value.message
    assert not is_installed(entry, tmp_path)
    assert not (tmp_path / entry.id).exists()


def test_an_md5_pinned_file_from_a_url_mirror(tmp_path: Path) -> None:
    with serve(Mirror(files={"/files/tiny.onnx": BODY, "/files/tiny.onnx.json": CONFIG})) as mirror:
        source = {
            "type": "url",
            "files": {
                name: f"{mirror.url}/files/{name}" for name in ("tiny.onnx", "tiny.onnx.json")
            },
        }
        folder = ensure_model(_entry(source=source), tmp_path)
    assert (folder / "tiny.onnx.json").read_bytes() == CONFIG


def test_a_marker_written_before_md5_pins_is_still_trusted(tmp_path: Path) -> None:
    joe = get_manifest(load_settings()).get("piper-joe-medium")
    folder = ensure_model(joe, tmp_path)
    marker = folder / MARKER
    raw = json.loads(marker.read_text())
    for stamp in raw["files"].values():
        stamp["sha256"] = stamp.pop("digest").removeprefix("sha256:")
    marker.write_text(json.dumps(raw))
    assert is_ready(joe, tmp_path)


def test_a_file_needs_a_sha256_or_an_md5() -> None:
    with pytest.raises(ValidationError, match="needs a sha256"):
        ModelFile.model_validate({"path": "x.onnx", "size": 10})
    both = ModelFile.model_validate(
        {"path": "x.onnx", "size": 1, "sha256": "a" * 64, "md5": "b" * 32}
    )
    assert both.digest.algorithm == "sha256"


@pytest.mark.parametrize(
    ("voice", "language"),
    [
        ("faber", "pt_BR"),
        ("irina", "ru_RU"),
        ("denis", "ru_RU"),
        ("dmitri", "ru_RU"),
        ("ruslan", "ru_RU"),
        ("huayan", "zh_CN"),
    ],
)
def test_the_catalogue_voices_are_pinned_at_the_v1_tag(voice: str, language: str) -> None:
    entry = get_manifest(load_settings()).get(f"piper-{voice}-medium")
    assert entry.voice == voice and entry.language == language
    assert [item.digest.algorithm for item in entry.files] == ["md5", "md5"]
    assert entry.file(f"{language}-{voice}-medium.onnx").size == 63201294
    source = entry.sources[0]
    assert source.type == "hf" and source.revision == TAG
