"""A full disk is recognised through wrappers; free space is read from the nearest folder."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from visiovox.jobs.disk import free_bytes, is_disk_full
from visiovox.jobs.storage import JobFiles


def test_is_disk_full_follows_the_cause() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise ValueError("wrapped") from exc
    except ValueError as wrapped:
        assert is_disk_full(wrapped)
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(ValueError("x"))


def test_free_bytes_of_a_root_not_made_yet(tmp_path: Path) -> None:
    assert free_bytes(tmp_path / "not" / "yet") == shutil.disk_usage(tmp_path).free


def test_has_room_compares_with_min_free_bytes(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    assert JobFiles(tmp_path).has_room()
    assert JobFiles(tmp_path, min_free_bytes=free // 2).has_room()
    assert not JobFiles(tmp_path, min_free_bytes=free * 2).has_room()


def test_delete_outputs_keeps_the_inputs(tmp_path: Path) -> None:
    files = JobFiles(tmp_path)
    for source in ("file.wav", "part.wav"):
        (tmp_path / source).write_bytes(b"x")
    files.put_input("j1", "file.wav", tmp_path / "file.wav")
    files.put_output("j1", "part.wav", tmp_path / "part.wav")
    files.delete_outputs("j1")
    assert files.output_size("j1", "part.wav") is None
    assert files.local_input_path("j1", "file.wav") == tmp_path / "jobs" / "j1" / "in" / "file.wav"
    assert not (tmp_path / "jobs" / "j1" / "out").exists()
