"""Resumable HTTP(S) download of one model file, hashed as it arrives.

Bytes go to ``.<name>.download`` beside the target. A cut connection or a
stalled read is retried with ``Range: bytes=<have>-`` (a server that answers
200 instead of 206 is read from the start again), so neither a flaky link nor
a killed process makes anyone fetch the same bytes twice. The file is renamed
into place only once its size and sha256 match the manifest; a mismatch
deletes it. Callers hold the model's lock, so one process writes a given file.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import requests

from visiovox.models.hashing import sha256_of

log = logging.getLogger(__name__)

DOWNLOAD_SUFFIX = ".download"
_CHUNK = 1024 * 1024
_MAX_BACKOFF_S = 5.0


class DownloadFailed(Exception):
    """The URL cannot provide the file (after retries, or for good)."""


class _Transient(Exception):
    """A server-side hiccup worth another attempt (5xx, a short body)."""


# A body cut short surfaces as ChunkedEncodingError ("IncompleteRead"), not a ConnectionError.
_RETRYABLE = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    _Transient,
)


def partial_path(dest: Path) -> Path:
    """Where the bytes of ``dest`` collect until they are verified."""
    return dest.with_name(f".{dest.name}{DOWNLOAD_SUFFIX}")


def download_url(
    url: str,
    *,
    dest: Path,
    size: int,
    sha256: str,
    attempts: int = 5,
    timeout_s: float = 30.0,
    on_bytes: Callable[[int], None] | None = None,
    session: requests.Session | None = None,
) -> None:
    """Make ``dest`` the verified file at ``url``, resuming any partial one."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(dest)
    http = session or requests.Session()
    try:
        for attempt in range(1, max(1, attempts) + 1):
            try:
                _fetch_rest(
                    http, url, partial=partial, size=size, timeout_s=timeout_s, on_bytes=on_bytes
                )
                break
            except _RETRYABLE as exc:
                if attempt >= attempts:
                    raise DownloadFailed(f"{url}: {exc} (after {attempts} attempts)") from exc
                backoff = min(_MAX_BACKOFF_S, 0.2 * 2 ** (attempt - 1))
                have = partial.stat().st_size if partial.exists() else 0
                log.warning("%s: %s; resuming at byte %d in %.1fs", url, exc, have, backoff)
                time.sleep(backoff)
        _verify_and_place(partial, dest=dest, url=url, size=size, sha256=sha256)
    finally:
        if session is None:
            http.close()


def _fetch_rest(
    http: requests.Session,
    url: str,
    *,
    partial: Path,
    size: int,
    timeout_s: float,
    on_bytes: Callable[[int], None] | None,
) -> None:
    """Append the missing bytes to ``partial`` until it holds ``size`` bytes."""
    have = partial.stat().st_size if partial.exists() else 0
    if have > size:
        partial.unlink()
        have = 0
    if have == size:
        return
    headers = {"Range": f"bytes={have}-", "Accept-Encoding": "identity"} if have else {}
    with http.get(url, headers=headers, stream=True, timeout=timeout_s) as response:
        if response.status_code == 416:  # our offset is past the end: start over
            partial.unlink(missing_ok=True)
            raise _Transient("range not satisfiable")
        if response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code not in (200, 206):
            raise DownloadFailed(f"{url}: HTTP {response.status_code}")
        resumed = response.status_code == 206
        if not resumed:
            have = 0  # the server ignored Range (or we asked for none): take it all
        with open(partial, "ab" if resumed else "wb") as out:
            if on_bytes is not None:
                on_bytes(have)
            for chunk in response.iter_content(chunk_size=_CHUNK):
                out.write(chunk)
                have += len(chunk)
                if on_bytes is not None:
                    on_bytes(have)
            out.flush()
            os.fsync(out.fileno())
    if have < size:
        raise _Transient(f"connection closed at byte {have} of {size}")


def _verify_and_place(partial: Path, *, dest: Path, url: str, size: int, sha256: str) -> None:
    got_size = partial.stat().st_size
    got_sha = sha256_of(partial)
    if got_size != size or got_sha != sha256:
        partial.unlink(missing_ok=True)
        raise DownloadFailed(
            f"{url} gave {got_size} bytes with sha256 {got_sha}, expected {size} bytes "
            f"with sha256 {sha256}; the download was deleted"
        )
    os.replace(partial, dest)
