"""Cache upkeep behind ``visiovox models verify`` and ``visiovox models rm``.

``verify_cached`` hashes every file of a model that is in the cache again,
whatever its verified stamp says, and forgets the stamp of a file that no
longer matches, so the next use deletes and fetches it again. Only installed
models are judged: a folder holding neither a verified stamp nor any of the
model's files (left empty by a fetch that failed before the cache staged new
models) is no model, and verify passes over it.
"""

from __future__ import annotations

import enum
import shutil
from dataclasses import dataclass
from pathlib import Path

from visiovox.models.cache import (
    MARKER,
    file_stamp,
    model_dir,
    model_lock,
    read_marker,
    staging_dir,
    write_marker,
)
from visiovox.models.manifest import ModelEntry
from visiovox.models.sources import file_digest


class FileState(enum.StrEnum):
    """What a re-hash found."""

    OK = "ok"
    MISSING = "missing"
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class FileCheck:
    """One file of one model, as ``verify_cached`` found it."""

    model_id: str
    path: str
    state: FileState
    detail: str = ""


def verify_cached(entry: ModelEntry, cache_dir: Path, *, lock_timeout_s: float) -> list[FileCheck]:
    """Re-hash ``entry``'s files in the cache; an empty list when the model is not installed."""
    folder = model_dir(entry, cache_dir)
    if not _installed_at_all(entry, folder):
        return []
    checks: list[FileCheck] = []
    with model_lock(entry, cache_dir, timeout_s=lock_timeout_s):
        stamps = read_marker(folder)
        for item in entry.files:
            path = folder / item.path
            if not path.exists():
                checks.append(FileCheck(entry.id, item.path, FileState.MISSING))
                stamps.pop(item.path, None)
                continue
            size = path.stat().st_size
            expected = item.digest
            digest = file_digest(path, expected.algorithm) if size == item.size else ""
            if size == item.size and digest == expected.hexdigest:
                checks.append(FileCheck(entry.id, item.path, FileState.OK))
                stamps[item.path] = file_stamp(path, item)  # trusted again in this boot
                continue
            detail = (
                f"{size} bytes, expected {item.size}"
                if size != item.size
                else f"{expected.algorithm} {digest}, expected {expected.pin}"
            )
            checks.append(FileCheck(entry.id, item.path, FileState.CORRUPT, detail))
            stamps.pop(item.path, None)
        write_marker(folder, stamps)
    return checks


def _installed_at_all(entry: ModelEntry, folder: Path) -> bool:
    """Whether ``folder`` holds a verified stamp or any file of ``entry``, however broken."""
    paths = (folder / MARKER, *(folder / item.path for item in entry.files))
    return any(path.exists() or path.is_symlink() for path in paths)


def remove_cached(entry: ModelEntry, cache_dir: Path, *, lock_timeout_s: float) -> bool:
    """Delete ``entry``'s folder and staged download; False if neither was there.

    Links to package files go, never the files they point to.
    """
    candidates = (model_dir(entry, cache_dir), staging_dir(entry, cache_dir))
    folders = [folder for folder in candidates if folder.exists()]
    if not folders:
        return False
    with model_lock(entry, cache_dir, timeout_s=lock_timeout_s):
        for folder in folders:
            shutil.rmtree(folder)  # rmtree removes symlinks, not their targets
    return True
