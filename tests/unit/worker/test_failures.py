"""A job's error: its code, and a message that never shows a server path."""

from __future__ import annotations

import errno
import os

import pytest

from visiovox.errors import PipelineError
from visiovox.media.errors import MediaError
from visiovox.worker.failures import job_error, without_paths

FULL = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/srv/data/jobs/abc/out/x.wav")


def _raised_from(outer: Exception, inner: Exception) -> Exception:
    try:
        try:
            raise inner
        except Exception as exc:
            raise outer from exc
    except Exception as exc:
        return exc


@pytest.mark.parametrize(
    "exc",
    [
        FULL,
        OSError(errno.EDQUOT, "Disk quota exceeded"),
        _raised_from(MediaError("invalid_media", "cannot transcode the video: ..."), FULL),
        _raised_from(RuntimeError("flush failed"), FULL),
    ],
)
def test_a_full_disk_anywhere_in_the_chain_is_storage_full(exc: Exception) -> None:
    error = job_error(exc)
    assert error.code == "storage_full"
    assert "/" not in error.message


def test_other_errors_keep_their_code_without_paths() -> None:
    missing = FileNotFoundError(errno.ENOENT, "No such file", "/srv/data/jobs/abc/in/file.wav")
    assert job_error(missing).code == "internal_error"
    assert job_error(missing).message == "FileNotFoundError: [Errno 2] No such file: '<path>'"
    coded = PipelineError("no_speech", "nothing to hear in /tmp/x/y.wav")
    assert (job_error(coded).code, job_error(coded).message) == (
        "no_speech",
        "nothing to hear in <path>",
    )


@pytest.mark.parametrize(
    "text",
    [
        "speed 1/2 of audio/wav at http://host:8000/v1/jobs",
        "models/piper-lessac-medium/voice.onnx is missing",
        "pull it with `visiovox models pull whisper-base`",
        "a / b",
    ],
)
def test_what_is_not_an_absolute_path_stays(text: str) -> None:
    assert without_paths(text) == text
