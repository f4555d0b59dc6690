"""Cache upkeep behind ``visiovox models verify`` and ``visiovox models rm``.

``verify_cached`` hashes every file of a model that is in the cache again,
whatever its verified stamp says, and forgets the stamp of a file that no
longer matches, so the next use deletes and fetches it again.
"""

from __future__ import annotations

import enum
import shutil
from dataclasses import dataclass
from pathlib import Path

from visiovox.models.cache import file_stamp, model_dir, model_lock, read_marker, write_marker
from visiovox.models.manifest import ModelEntry
from visiovox.models.sources import sha256_of


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
    """Re-hash ``entry``'s files in the cache; an empty list when the model is not there at all."""
    folder = model_dir(entry, cache_dir)
    if not folder.is_dir():
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
            digest = sha256_of(path) if size == item.size else ""
            if size == item.size and digest == item.sha256:
                checks.append(FileCheck(entry.id, item.path, FileState.OK))
                stamps[item.path] = file_stamp(path, item)  # trusted again in this boot
                continue
            detail = (
                f"{size} bytes, expected {item.size}"
                if size != item.size
                else f"sha256 {digest}, expected {item.sha256}"
            )
            checks.append(FileCheck(entry.id, item.path, FileState.CORRUPT, detail))
            stamps.pop(item.path, None)
        write_marker(folder, stamps)
    return checks


def remove_cached(entry: ModelEntry, cache_dir: Path, *, lock_timeout_s: float) -> bool:
    """Delete ``entry``'s folder (links to package files, not their targets); False if absent."""
    folder = model_dir(entry, cache_dir)
    if not folder.exists():
        return False
    with model_lock(entry, cache_dir, timeout_s=lock_timeout_s):
        shutil.rmtree(folder)  # rmtree removes symlinks themselves, never what they point to
    return True
