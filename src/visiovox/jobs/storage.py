"""Job files on disk: ``jobs/{id}/in/…`` for uploads, ``jobs/{id}/out/…`` for outputs.

Names are always chosen by the server; a client's filename is metadata only.
Free space under the root is checked against ``storage.min_free_bytes``
before an upload is taken (``has_room``).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from visiovox.jobs.disk import free_bytes

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class UnsafeName(ValueError):
    """A file name that could leave the job's folder."""


def check_name(name: str) -> str:
    """``name`` if it is a plain server-style file name, else ``UnsafeName``."""
    if not _SAFE_NAME.match(name) or ".." in name:
        raise UnsafeName(name)
    return name


class JobFiles:
    """Locates and cleans the folders of jobs under one storage root."""

    def __init__(self, root: Path, *, min_free_bytes: int = 0) -> None:
        self._root = root.resolve()
        self._min_free_bytes = min_free_bytes

    @property
    def root(self) -> Path:
        return self._root

    def job_dir(self, job_id: str) -> Path:
        return self._root / "jobs" / check_name(job_id)

    def input_dir(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "in"

    def output_dir(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "out"

    def input_path(self, job_id: str, name: str) -> Path:
        return self.input_dir(job_id) / check_name(name)

    def output_path(self, job_id: str, name: str) -> Path:
        return self.output_dir(job_id) / check_name(name)

    def has_room(self) -> bool:
        """Whether the disk under the root keeps at least ``min_free_bytes`` free."""
        return self._min_free_bytes <= 0 or free_bytes(self._root) >= self._min_free_bytes

    def delete_job(self, job_id: str) -> None:
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def delete_outputs(self, job_id: str) -> None:
        """Remove every output of a job, partial ones included."""
        shutil.rmtree(self.output_dir(job_id), ignore_errors=True)

    def delete_older_than(self, age_s: float) -> int:
        """Remove job folders not modified for ``age_s`` seconds; returns how many."""
        jobs_root = self._root / "jobs"
        if not jobs_root.is_dir():
            return 0
        cutoff = time.time() - age_s
        removed = 0
        for folder in jobs_root.iterdir():
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed
