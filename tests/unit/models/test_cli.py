"""``visiovox models list|pull|verify|rm`` through typer's CliRunner, against a loopback mirror."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.unit.models.conftest import entry_dict, payload, write_config, write_manifest
from tests.unit.models.loopback import Mirror, serve
from visiovox.cli import app
from visiovox.config import get_settings
from visiovox.models.cache import STAGING_DIR

BODY = payload(1_500_000)


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mirror]:
    """A manifest of one downloadable model (``tiny``) and one bundled one, and its config."""
    with serve(Mirror(files={"/files/w.bin": BODY})) as server:
        bundled = {
            "id": "bundled-vad",
            "task": "vad",
            "engine": "vad.silero",
            "license": "MIT",
            "files": [
                {
                    "path": "silero_vad_v6.onnx",
                    "sha256": "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2",
                    "size": 1245151,
                }
            ],
            "sources": [
                {
                    "type": "package",
                    "files": {"silero_vad_v6.onnx": ["faster_whisper/assets/silero_vad_v6.onnx"]},
                }
            ],
        }
        tiny = entry_dict(
            model_id="tiny",
            files={"w.bin": BODY},
            sources=[{"type": "url", "files": {"w.bin": f"{server.url}/files/w.bin"}}],
        )
        tiny["license"] = "CC-BY-NC-4.0"
        tiny["non_commercial"] = True
        manifest = write_manifest(tmp_path, [bundled, tiny])
        monkeypatch.setenv("VISIOVOX_CONFIG", str(write_config(tmp_path, manifest=manifest)))
        get_settings.cache_clear()
        yield server
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["models", *args])
    return result.exit_code, result.output


def test_list_shows_every_model_and_its_state(mirror: Mirror) -> None:
    code, out = invoke("list")
    assert code == 0
    assert "bundled-vad" in out and "tiny" in out
    assert "1.5 MB" in out and "CC-BY-NC-4.0 (non-commercial)" in out
    assert "url:127.0.0.1" in out and "package:faster-whisper" in out
    assert " yes " not in out
    invoke("pull", "tiny")
    assert " yes " in invoke("list")[1]


def test_pull_verify_rm(mirror: Mirror, tmp_path: Path) -> None:
    code, out = invoke("pull", "tiny", "bundled-vad")
    assert code == 0, out
    assert "tiny: ready" in out and "bundled-vad: ready" in out
    target = tmp_path / "cache" / "tiny" / "w.bin"
    assert target.read_bytes() == BODY

    code, out = invoke("verify")
    assert code == 0 and "tiny: ok (1 files)" in out

    with open(target, "r+b") as handle:
        handle.write(b"XX")
    code, out = invoke("verify", "tiny")
    assert code == 1
    assert "tiny/w.bin: corrupt" in out and "visiovox models pull" in out

    code, out = invoke("pull", "tiny")  # the corrupt file is deleted and fetched again
    assert code == 0 and target.read_bytes() == BODY
    assert len(mirror.gets_of("/files/w.bin")) == 2

    code, out = invoke("rm", "tiny", "bundled-vad")
    assert code == 0 and "tiny: removed" in out
    assert not target.parent.exists()
    assert invoke("rm", "tiny")[1].strip() == "tiny: not in the cache"


def test_pull_unknown_model(mirror: Mirror) -> None:
    code, out = invoke("pull", "nope")
    assert code == 2 and "no model 'nope'" in out and "tiny" in out


def test_pull_offline_fails_with_the_command_to_run(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    get_settings.cache_clear()
    code, out = invoke("pull", "tiny")
    assert code == 1 and "offline mode" in out and "visiovox models pull tiny" in out
    assert mirror.gets == []


def test_a_pull_from_an_unreachable_hub_leaves_nothing_to_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest's Piper voice from a hub on a closed port: no folder, and verify passes."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    cache = tmp_path / "cache"
    monkeypatch.setenv("VISIOVOX_MODELS__CACHE_DIR", str(cache))
    monkeypatch.setenv("VISIOVOX_MODELS__HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    get_settings.cache_clear()
    try:
        code, out = invoke("pull", "piper-lessac-medium")
        assert code == 1 and "not available" in out
        assert not (cache / "piper-lessac-medium").exists()
        assert not (cache / STAGING_DIR / "piper-lessac-medium").exists()  # no bytes came
        code, out = invoke("verify")
        assert code == 0, out
        assert "missing" not in out
    finally:
        get_settings.cache_clear()
