"""The local-folder backend and the job layout over it: the default, copying nothing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from visiovox.jobs.storage import JobFiles, UnsafeName
from visiovox.storage.backend import BlobNotFound
from visiovox.storage.local import LocalBackend


def test_a_workspace_is_the_jobs_own_folder(tmp_path: Path) -> None:
    files = JobFiles(tmp_path)
    (tmp_path / "speech.wav").write_bytes(b"RIFF")
    files.put_input("j1", "speech.wav", tmp_path / "speech.wav")
    with files.workspace("j1") as workspace:
        assert workspace.folder == tmp_path / "jobs" / "j1"
        assert workspace.input_path("speech.wav").read_bytes() == b"RIFF"
        workspace.output_path("out.txt").write_text("done")
        workspace.publish("out.txt")
    assert files.read_output("j1", "out.txt") == b"done"
    assert files.local_output_path("j1", "out.txt") == tmp_path / "jobs" / "j1" / "out" / "out.txt"
    with pytest.raises(UnsafeName):
        files.output_size("j1", "../in/speech.wav")


def test_an_upload_is_written_in_place_then_renamed(tmp_path: Path) -> None:
    files = JobFiles(tmp_path)
    incoming = files.receive_input("j1", "file", name_for=lambda head: "file.wav", head_bytes=4)
    incoming.write(b"RIFF")
    incoming.write(b"data")
    incoming.close()
    assert incoming.path == tmp_path / "jobs" / "j1" / "in" / "file"
    incoming.keep("file.wav")
    assert incoming.path.read_bytes() == b"RIFFdata"
    assert sorted(p.name for p in incoming.path.parent.iterdir()) == ["file.wav"]


def test_an_aborted_upload_leaves_nothing(tmp_path: Path) -> None:
    incoming = JobFiles(tmp_path).receive_input("j1", "file")
    incoming.write(b"partial")
    incoming.abort()
    assert not incoming.path.exists()


def test_ranges_and_missing_blobs(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    writer = backend.open_writer("a/b.bin")
    writer.write(bytes(range(100)))
    writer.close()
    assert backend.size("a/b.bin") == 100
    assert b"".join(backend.iter_range("a/b.bin", 10, 20)) == bytes(range(10, 20))
    assert b"".join(backend.iter_range("a/b.bin", 95)) == bytes(range(95, 100))
    assert backend.size("a/none") is None
    with pytest.raises(BlobNotFound):
        backend.get_file("a/none", tmp_path / "copy")
    assert backend.presigned_url("a/b.bin", ttl_s=60, filename="b.bin", content_type="x/y") is None


def test_stale_folders_go_fresh_ones_stay(tmp_path: Path) -> None:
    files = JobFiles(tmp_path)
    for job in ("old", "new"):
        (tmp_path / "x").write_bytes(b"x")
        files.put_output(job, "x", tmp_path / "x")
    hour_ago = time.time() - 3600
    os.utime(tmp_path / "jobs" / "old", (hour_ago, hour_ago))
    assert files.delete_older_than(60) == 1
    assert sorted(p.name for p in (tmp_path / "jobs").iterdir()) == ["new"]
