"""URL mirrors from a loopback server: progress, resume after a cut, bad hashes, one download."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import visiovox.models.cache as cache
from tests.unit.models.conftest import (
    entry_dict,
    payload,
    subprocess_env,
    url_entry,
    write_config,
    write_manifest,
)
from tests.unit.models.loopback import Mirror, serve
from visiovox.models.cache import STAGING_DIR, ensure_model, is_installed, is_ready
from visiovox.models.errors import ModelUnavailable
from visiovox.models.http_download import partial_path
from visiovox.models.maintenance import FileState, verify_cached
from visiovox.models.manifest import ModelEntry
from visiovox.models.transfer import FetchOptions, TransferProgress

SIZE = 3 * 1024 * 1024 + 123


def test_download_reports_progress_and_verifies(tmp_path: Path) -> None:
    body = payload(SIZE)
    with serve(Mirror(files={"/files/w.bin": body})) as mirror:
        entry = url_entry("tiny", {"w.bin": body}, mirror.url)
        seen: list[TransferProgress] = []
        folder = ensure_model(entry, tmp_path, options=FetchOptions(progress=seen.append))
    assert (folder / "w.bin").read_bytes() == body
    assert is_ready(entry, tmp_path)
    assert mirror.gets_of("/files/w.bin") == [None]
    done = [p.done for p in seen if not p.verified]
    assert done == sorted(done) and done[-1] == SIZE and len(done) > 3
    assert seen[-1].verified and seen[-1].source.startswith("url:127.0.0.1")
    assert not partial_path(folder / "w.bin").exists()


def test_resumes_after_the_connection_is_cut(tmp_path: Path) -> None:
    body = payload(SIZE)
    half = SIZE // 2
    with serve(Mirror(files={"/files/w.bin": body}, cut_first_get_after=half)) as mirror:
        entry = url_entry("tiny", {"w.bin": body}, mirror.url)
        folder = ensure_model(entry, tmp_path)
    assert (folder / "w.bin").read_bytes() == body
    first, second = mirror.gets_of("/files/w.bin")
    assert first is None and second is not None
    # It resumes from the bytes it kept: all it received, less a chunk cut mid-read.
    resumed_at = int(second.removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= half


def test_a_partial_file_left_by_a_killed_process_is_resumed(tmp_path: Path) -> None:
    body = payload(SIZE)
    with serve(Mirror(files={"/files/w.bin": body})) as mirror:
        entry = url_entry("tiny", {"w.bin": body}, mirror.url)
        partial = partial_path(tmp_path / "tiny" / "w.bin")
        partial.parent.mkdir(parents=True)
        partial.write_bytes(body[:1000])
        ensure_model(entry, tmp_path)
    assert mirror.gets_of("/files/w.bin") == ["bytes=1000-"]
    assert (tmp_path / "tiny" / "w.bin").read_bytes() == body


def test_a_server_that_ignores_range_is_read_from_the_start(tmp_path: Path) -> None:
    body = payload(SIZE)
    mirror = Mirror(files={"/files/w.bin": body}, cut_first_get_after=SIZE // 3)
    mirror.honour_range = False
    with serve(mirror):
        entry = url_entry("tiny", {"w.bin": body}, mirror.url)
        folder = ensure_model(entry, tmp_path)
    assert (folder / "w.bin").read_bytes() == body
    assert len(mirror.gets_of("/files/w.bin")) == 2


def test_sha256_mismatch_deletes_the_download_and_says_so(tmp_path: Path) -> None:
    body = payload(SIZE)
    tampered = body[:-1] + b"\x00"
    with serve(Mirror(files={"/files/w.bin": tampered})) as mirror:
        entry = url_entry("tiny", {"w.bin": body}, mirror.url)
        with pytest.raises(ModelUnavailable) as caught:
            ensure_model(entry, tmp_path)
    message = caught.value.message
    assert "model tiny is not available" in message
    assert "sha256" in message and "deleted" in message
    assert not (tmp_path / "tiny").exists()
    assert not (tmp_path / STAGING_DIR / "tiny").exists()


def test_a_corrupt_cached_file_is_deleted_and_fetched_again(tmp_path: Path) -> None:
    body = payload(SIZE)
    with serve(Mirror(files={"/files/w.bin": body})) as mirror:
        entry = url_entry("tiny", {"w.bin": body}, mirror.url)
        target = ensure_model(entry, tmp_path) / "w.bin"
        with open(target, "r+b") as handle:
            handle.seek(100)
            handle.write(b"rot")
        ensure_model(entry, tmp_path)
    assert target.read_bytes() == body
    assert len(mirror.gets_of("/files/w.bin")) == 2


def test_an_unreachable_mirror_falls_through_to_the_next_source(tmp_path: Path) -> None:
    body = payload(1000)
    with serve(Mirror(files={"/files/w.bin": body})) as mirror:
        sources = [
            {"type": "url", "files": {"w.bin": f"{mirror.url}/files/missing.bin"}},
            {"type": "url", "files": {"w.bin": f"{mirror.url}/files/w.bin"}},
        ]
        entry = ModelEntry.model_validate(
            entry_dict(model_id="tiny", files={"w.bin": body}, sources=sources)
        )
        folder = ensure_model(entry, tmp_path)
    assert (folder / "w.bin").read_bytes() == body


def test_two_processes_pulling_at_once_download_once(tmp_path: Path) -> None:
    body = payload(SIZE)
    # Slow enough (~0.5 s) that both processes ask while the first is still downloading.
    mirror = Mirror(files={"/files/w.bin": body}, chunk_delay_s=0.01)
    with serve(mirror):
        manifest = write_manifest(
            tmp_path,
            [
                entry_dict(
                    model_id="tiny",
                    files={"w.bin": body},
                    sources=[{"type": "url", "files": {"w.bin": f"{mirror.url}/files/w.bin"}}],
                )
            ],
        )
        env = subprocess_env(VISIOVOX_CONFIG=str(write_config(tmp_path, manifest=manifest)))
        command = [sys.executable, "-m", "visiovox", "models", "pull", "tiny"]
        started = time.monotonic()
        pullers = [
            subprocess.Popen(
                command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=120) for p in pullers]
        elapsed = time.monotonic() - started
    for puller, (out, err) in zip(pullers, outputs, strict=True):
        assert puller.returncode == 0, err.decode()
        assert b"tiny: ready" in out
    assert mirror.gets_of("/files/w.bin") == [None], f"{elapsed:.1f}s"
    assert (tmp_path / "cache" / "tiny" / "w.bin").read_bytes() == body


def test_after_a_reboot_a_download_is_hashed_again_before_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Downloads are not fsync'd: a power cut can leave a file of the right size
    # and mtime holding other bytes, which only a new boot can explain.
    body = payload(SIZE)
    with serve(Mirror(files={"/files/w.bin": body})) as mirror:
        entry = url_entry("tiny", {"w.bin": body}, mirror.url)
        target = ensure_model(entry, tmp_path) / "w.bin"
        before = target.stat()
        with open(target, "r+b") as handle:
            handle.write(b"\x00" * 4096)  # what writeback never reached
        os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert is_ready(entry, tmp_path)  # same boot: size and mtime are trusted
        monkeypatch.setattr(cache, "boot_id", lambda: "the-next-boot")
        assert not is_ready(entry, tmp_path) and is_installed(entry, tmp_path)
        ensure_model(entry, tmp_path)
    assert target.read_bytes() == body
    assert len(mirror.gets_of("/files/w.bin")) == 2
    assert is_ready(entry, tmp_path)


def test_a_stalled_transfer_times_out_and_resumes(tmp_path: Path) -> None:
    body = payload(SIZE)
    half = SIZE // 2
    mirror = Mirror(files={"/files/w.bin": body}, stall_first_get_after=half, stall_s=2.0)
    with serve(mirror):
        entry = url_entry("tiny", {"w.bin": body}, mirror.url)
        folder = ensure_model(entry, tmp_path, options=FetchOptions(timeout_s=0.3))
    assert (folder / "w.bin").read_bytes() == body
    first, second = mirror.gets_of("/files/w.bin")
    assert first is None and second is not None
    assert 0 < int(second.removeprefix("bytes=").rstrip("-")) <= half


def test_a_gzip_encoded_body_is_decoded_and_verified(tmp_path: Path) -> None:
    body = payload(SIZE)
    with serve(Mirror(files={"/files/w.bin": body}, gzip=True)) as mirror:
        entry = url_entry("tiny", {"w.bin": body}, mirror.url)
        folder = ensure_model(entry, tmp_path)
    assert (folder / "w.bin").read_bytes() == body
    assert mirror.gets_of("/files/w.bin") == [None]


def test_verify_after_a_reboot_trusts_the_files_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = payload(1000)
    with serve(Mirror(files={"/files/w.bin": body})) as mirror:
        entry = url_entry("tiny", {"w.bin": body}, mirror.url)
        ensure_model(entry, tmp_path)
    monkeypatch.setattr(cache, "boot_id", lambda: "the-next-boot")
    assert not is_ready(entry, tmp_path)
    (check,) = verify_cached(entry, tmp_path, lock_timeout_s=5)
    assert check.state is FileState.OK
    assert is_ready(entry, tmp_path)
