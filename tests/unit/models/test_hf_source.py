"""The ``hf`` source against a loopback server speaking the Hub's file-resolve protocol."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.models.conftest import (
    entry_dict,
    payload,
    subprocess_env,
    write_config,
    write_manifest,
)
from tests.unit.models.loopback import Mirror, serve
from visiovox.models.cache import ensure_model, is_ready
from visiovox.models.errors import ModelUnavailable
from visiovox.models.hf_source import STAGING_DIR
from visiovox.models.manifest import ModelEntry
from visiovox.models.transfer import FetchOptions, TransferProgress

REVISION = "fedcba9876543210fedcba9876543210fedcba98"
# Above huggingface_hub's 10 MiB read size, so progress arrives mid-file.
BODY = payload(12 * 1024 * 1024 + 5)
CONFIG = b'{"sample_rate": 22050}'
REPO_PATH = f"/acme/tiny-voice/resolve/{REVISION}"


def hf_entry_dict(*, body: bytes = BODY) -> dict[str, object]:
    source = {
        "type": "hf",
        "repo": "acme/tiny-voice",
        "revision": REVISION,
        "files": {"voice.onnx": "en/voice.onnx", "voice.onnx.json": "en/voice.onnx.json"},
    }
    return entry_dict(
        model_id="tiny-voice",
        files={"voice.onnx": body, "voice.onnx.json": CONFIG},
        sources=[source],
    )


def hub() -> Mirror:
    return Mirror(
        files={f"{REPO_PATH}/en/voice.onnx": BODY, f"{REPO_PATH}/en/voice.onnx.json": CONFIG}
    )


def test_hf_hub_download_fetches_pinned_files_with_progress(tmp_path: Path) -> None:
    entry = ModelEntry.model_validate(hf_entry_dict())
    seen: list[TransferProgress] = []
    with serve(hub()) as server:
        options = FetchOptions(hf_endpoint=server.url, progress=seen.append)
        folder = ensure_model(entry, tmp_path, options=options)
    assert (folder / "voice.onnx").read_bytes() == BODY
    assert (folder / "voice.onnx.json").read_bytes() == CONFIG
    assert is_ready(entry, tmp_path)
    assert f"{REPO_PATH}/en/voice.onnx" in server.heads  # the pinned revision was asked for
    assert not (folder / STAGING_DIR).exists()
    onnx_updates = [p for p in seen if p.path == "voice.onnx"]
    assert any(0 < p.done < p.total for p in onnx_updates)
    assert (
        onnx_updates[-1].verified and onnx_updates[-1].source == "hf:acme/tiny-voice@fedcba987654"
    )


def test_hf_file_with_the_wrong_hash_is_refused_and_removed(tmp_path: Path) -> None:
    entry = ModelEntry.model_validate(hf_entry_dict(body=payload(len(BODY), seed=1)))
    with serve(hub()) as server, pytest.raises(ModelUnavailable, match="sha256") as caught:
        ensure_model(entry, tmp_path, options=FetchOptions(hf_endpoint=server.url))
    assert "the download was deleted" in caught.value.message
    assert not (tmp_path / "tiny-voice" / "voice.onnx").exists()


def test_missing_repo_file_names_the_source(tmp_path: Path) -> None:
    entry = ModelEntry.model_validate(hf_entry_dict())
    with serve(Mirror(files={})) as server, pytest.raises(ModelUnavailable) as caught:
        ensure_model(entry, tmp_path, options=FetchOptions(hf_endpoint=server.url))
    assert "hf:acme/tiny-voice@fedcba987654" in caught.value.message


def test_cli_pull_honours_hf_endpoint_and_hf_token(tmp_path: Path) -> None:
    with serve(hub()) as server:
        manifest = write_manifest(tmp_path, [hf_entry_dict()])
        env = subprocess_env(
            VISIOVOX_CONFIG=str(write_config(tmp_path, manifest=manifest)),
            HF_ENDPOINT=server.url,
            HF_TOKEN="hf_loopbacktoken",
        )
        result = subprocess.run(
            [sys.executable, "-m", "visiovox", "models", "pull", "tiny-voice"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert "tiny-voice: ready" in result.stdout
    assert (tmp_path / "cache" / "tiny-voice" / "voice.onnx").read_bytes() == BODY
    assert "Bearer hf_loopbacktoken" in server.authorizations
