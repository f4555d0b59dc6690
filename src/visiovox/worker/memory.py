"""The worker's memory ceiling (``worker.max_rss_mb``) and handing memory back after a job.

The ceiling is checked wherever a job checks for a cancel, between its units of
work: past it the job fails with ``resource_exhausted`` and the worker, once the
job is recorded and its message acknowledged, exits with ``EXIT_RECYCLE`` so a
fresh process replaces it (``visiovox up``, or compose's ``restart:``) instead
of the kernel's OOM killer taking it mid-job. The default ceiling is half the
physical memory, or of the cgroup (container) limit when that is lower.

After a job that grew the process, ``release_memory`` collects garbage and asks
glibc to return freed heap pages to the system (``malloc_trim``), which it
otherwise keeps for the process's life.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import psutil

from visiovox.config import WorkerSettings
from visiovox.errors import PipelineError

# sysexits' EX_TEMPFAIL: the worker stopped on purpose and wants to be started again.
EXIT_RECYCLE = 75
RESOURCE_EXHAUSTED = "resource_exhausted"
# Share of the machine's (or container's) memory one worker may use by default.
DEFAULT_SHARE = 0.5
# A cgroup v2 memory limit; "max" when there is none.
_CGROUP_LIMIT = Path("/sys/fs/cgroup/memory.max")
MIB = 1024 * 1024


@cache
def _this_process() -> psutil.Process:
    """Made once: building a ``Process`` reads ``/proc/self/stat``, half a check's cost."""
    return psutil.Process()


def rss_bytes() -> int:
    """This process's resident memory (one read of ``/proc/self/statm`` on Linux, ~16 µs)."""
    return int(_this_process().memory_info().rss)


def usable_memory_bytes() -> int:
    """Physical memory, or the cgroup's memory limit when that is lower."""
    total = int(psutil.virtual_memory().total)
    try:
        limit = _CGROUP_LIMIT.read_text().strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total


class MemoryCeiling:
    """Fails the running job once the process passes ``limit_bytes`` of resident memory."""

    def __init__(self, *, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        # Set by the first check that found the process over the limit.
        self.tripped = False

    @classmethod
    def from_settings(cls, settings: WorkerSettings) -> MemoryCeiling:
        if settings.max_rss_mb > 0:
            return cls(limit_bytes=settings.max_rss_mb * MIB)
        return cls(limit_bytes=int(usable_memory_bytes() * DEFAULT_SHARE))

    def over(self) -> bool:
        return rss_bytes() > self.limit_bytes

    def check(self) -> None:
        """Raise ``resource_exhausted`` when the process is over its ceiling."""
        rss = rss_bytes()
        if rss <= self.limit_bytes:
            return
        self.tripped = True
        raise PipelineError(
            RESOURCE_EXHAUSTED,
            f"the worker ran out of memory for this job ({rss // MIB} MiB resident, "
            f"ceiling worker.max_rss_mb {self.limit_bytes // MIB} MiB); it restarts afresh",
        )


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the system (glibc only)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Callable[[int], Any] | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
