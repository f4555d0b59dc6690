"""Every model with a package source resolves from its installed packages, and hashes match."""

from __future__ import annotations

from pathlib import Path

from visiovox.config import load_settings
from visiovox.models.cache import ensure_model
from visiovox.models.hashing import sha256_of
from visiovox.models.manifest import PackageSource, get_manifest
from visiovox.models.transfer import FetchOptions


def test_every_bundled_model_resolves_offline_with_matching_hashes(tmp_path: Path) -> None:
    manifest = get_manifest(load_settings())
    bundled = [
        entry
        for entry in manifest.models
        if any(isinstance(source, PackageSource) for source in entry.sources)
    ]
    assert {entry.id for entry in bundled} >= {
        "piper-joe-medium",
        "whisper-base",
        "silero-vad",
        "smollm2-135m-instruct",
        "dlib-landmarks-68",
        "dlib-face-resnet",
    }
    for entry in bundled:
        folder = ensure_model(entry, tmp_path, options=FetchOptions(offline=True))
        for item in entry.files:
            path = folder / item.path
            assert path.stat().st_size == item.size, f"{entry.id}/{item.path}"
            assert sha256_of(path) == item.sha256, f"{entry.id}/{item.path}"


def test_hub_entries_pin_their_files_and_flag_licences() -> None:
    manifest = get_manifest(load_settings())
    hub = [entry for entry in manifest.models if entry.downloadable]
    assert {entry.id for entry in hub} >= {
        "whisper-small",
        "piper-lessac-medium",
        "inswapper-128",
        "arcface-w600k-r50",
        "scrfd-10g",
    }
    for entry in hub:
        for source in entry.sources:
            assert set(source.files) == {item.path for item in entry.files}
    non_commercial = {entry.id for entry in manifest.models if entry.non_commercial}
    assert non_commercial >= {"inswapper-128", "arcface-w600k-r50", "scrfd-10g"}
    assert "whisper-small" not in non_commercial
    assert manifest.get("inswapper-128").owner == "ezioruan"


def test_the_face_enhancers_are_pinned_and_codeformer_is_non_commercial() -> None:
    manifest = get_manifest(load_settings())
    # FaceFusion's models-3.0.0 files: published sizes and sha256.
    pins = {
        "gfpgan-1.4": (
            340_299_087,
            "accc4757b26bdb89b32b4d3500d4f79c9dff97c1dd7c7104bf9dcb95e3311385",
        ),
        "codeformer": (
            376_951_650,
            "21710e7ab61c82683576c428e9c1b6fe1ed419586b7b39e394c3449c294b550f",
        ),
    }
    for model_id, (size, sha256) in pins.items():
        entry = manifest.get(model_id)
        (item,) = entry.files
        assert (item.size, item.sha256) == (size, sha256)
        assert entry.downloadable and entry.engine.startswith("face.enhance_")
    assert manifest.get("codeformer").non_commercial
    assert "S-Lab" in manifest.get("codeformer").license
    assert not manifest.get("gfpgan-1.4").non_commercial
    assert "FFHQ" in manifest.get("gfpgan-1.4").license
