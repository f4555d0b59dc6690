"""How an exception that ended a job becomes the job's error: a code, a message without paths.

A full disk anywhere in the exception's chain is ``storage_full``, whatever
wrapped it (a ``MediaError`` raised from PyAV's ``OSError``); any other
``CodedError`` keeps its own code; a record the worker cannot run is
``invalid_job``; a storage backend that failed to answer (S3) is
``storage_unavailable``; anything else is ``internal_error`` naming the exception's
type. Messages often carry a path (``[Errno 28] No space left on device:
'/srv/data/jobs/…'``, PyAV names the file it failed on): absolute paths
become ``<path>``, so a job's error never shows the server's layout. The
worker's log keeps the full text.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from visiovox.errors import CodedError
from visiovox.jobs.disk import is_disk_full
from visiovox.jobs.model import JobError
from visiovox.pipelines.registry import UnknownPipeline
from visiovox.storage.backend import StorageUnavailable

STORAGE_FULL = JobError(
    code="storage_full",
    message="the server's storage is full: this job's outputs could not be written; retry later",
)
# Two or more segments from the root, not inside a word, a URL or a relative path.
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~-])/[^\s'\"`:,;()\[\]<>/]+(?:/[^\s'\"`:,;()\[\]<>]*)+")


def without_paths(message: str) -> str:
    """``message`` with every absolute path replaced by ``<path>``."""
    return _ABSOLUTE_PATH.sub("<path>", message)


def job_error(exc: Exception) -> JobError:
    """The error a job that ended with ``exc`` is recorded with."""
    if is_disk_full(exc):
        return STORAGE_FULL
    if isinstance(exc, CodedError):
        code, message = exc.code, exc.message
    elif isinstance(exc, UnknownPipeline | ValidationError):
        code, message = "invalid_job", str(exc)
    elif isinstance(exc, StorageUnavailable):
        code, message = "storage_unavailable", "the server's storage is unavailable; retry later"
    else:
        code, message = "internal_error", f"{type(exc).__name__}: {exc}"
    return JobError(code=code, message=without_paths(message))
