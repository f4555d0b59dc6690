"""Resumable HTTP(S) download of one model file, hashed as it arrives.

Bytes go to ``.<name>.download`` beside the target. A cut connection or a
stalled read is retried with ``Range: bytes=<have>-`` (a server that answers
200 instead of 206 is read from the start again), so neither a flaky link nor
a killed process makes anyone fetch the same bytes twice. The file is renamed
into place only once its size and sha256 match the manifest; a mismatch
deletes it. Callers hold the model's lock, so one process writes a given file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import requests

log = logging.getLogger(__name__)

DOWNLOAD_SUFFIX = ".download"
_CHUNK = 1024 * 1024
_MAX_BACKOFF_S = 5.0
# Bytes between flushes to disk while downloading (the final fsync then has little left).
_SYNC_EVERY = 32 * 1024 * 1024


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
    partial = _Partial(partial_path(dest))
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
                log.warning("%s: %s; resuming at byte %d in %.1fs", url, exc, partial.size, backoff)
                time.sleep(backoff)
        partial.place(dest, url=url, size=size, sha256=sha256)
    finally:
        if session is None:
            http.close()


class _Partial:
    """The partial file and the sha256 of its bytes, updated as they arrive (no second read)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        self._digest = hashlib.sha256()
        self._sync()

    def open(self, *, resume: bool) -> BinaryIO:
        """The file to append to (its digest in step with it), or emptied when not resuming."""
        if resume:
            self._sync()
        else:
            self.size = 0
            self._digest = hashlib.sha256()
        return open(self.path, "ab" if resume else "wb")

    def writer(self, out: BinaryIO) -> _BackgroundDigest:
        """Hashes appended chunks off the download thread (its ``close`` waits for them)."""
        return _BackgroundDigest(self._digest, out.fileno())

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        self._sync()

    def place(self, dest: Path, *, url: str, size: int, sha256: str) -> None:
        """Rename into ``dest`` if size and sha256 match; otherwise delete and raise."""
        got_sha = self._digest.hexdigest()
        if self.size != size or got_sha != sha256:
            got_size = self.size
            self.discard()
            raise DownloadFailed(
                f"{url} gave {got_size} bytes with sha256 {got_sha}, expected {size} bytes "
                f"with sha256 {sha256}; the download was deleted"
            )
        os.replace(self.path, dest)

    def _sync(self) -> None:
        """Hash what the file holds if it is not what we last wrote (a leftover, a failed write)."""
        on_disk = self.path.stat().st_size if self.path.exists() else 0
        if on_disk == self.size:
            return
        self._digest = hashlib.sha256()
        self.size = 0
        if on_disk:
            with open(self.path, "rb") as handle:
                while block := handle.read(8 * _CHUNK):
                    self._digest.update(block)
                    self.size += len(block)


class _BackgroundDigest:
    """Hashes chunks and flushes them to disk every few MiB on a helper thread.

    The download thread only reads the socket and writes the page cache: the
    sha256 (hashlib releases the GIL on large buffers) and the disk writeback
    overlap with the network instead of adding to it, so the final fsync is short.
    """

    def __init__(self, digest: hashlib._Hash, fd: int) -> None:
        self._digest = digest
        self._fd = fd
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="visiovox-digest", daemon=True)
        self._thread.start()

    def put(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def close(self) -> None:
        """Wait until every chunk is hashed; re-raise a failed flush."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        unsynced = 0
        while (chunk := self._queue.get()) is not None:
            self._digest.update(chunk)
            unsynced += len(chunk)
            if unsynced >= _SYNC_EVERY and self._error is None:
                try:
                    os.fdatasync(self._fd)
                except OSError as exc:  # reported to the download thread by put/close
                    self._error = exc
                unsynced = 0


def _fetch_rest(
    http: requests.Session,
    url: str,
    *,
    partial: _Partial,
    size: int,
    timeout_s: float,
    on_bytes: Callable[[int], None] | None,
) -> None:
    """Append the missing bytes to ``partial`` until it holds ``size`` bytes."""
    if partial.size > size:
        partial.discard()
    if partial.size == size:
        return
    have = partial.size
    headers = {"Range": f"bytes={have}-", "Accept-Encoding": "identity"} if have else {}
    with http.get(url, headers=headers, stream=True, timeout=timeout_s) as response:
        if response.status_code == 416:  # our offset is past the end: start over
            partial.discard()
            raise _Transient("range not satisfiable")
        if response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code not in (200, 206):
            raise DownloadFailed(f"{url}: HTTP {response.status_code}")
        # 200 to a Range request: the server ignored it, so take it all again.
        with partial.open(resume=response.status_code == 206) as out:
            if on_bytes is not None:
                on_bytes(partial.size)
            hashing = partial.writer(out)
            try:
                for chunk in response.iter_content(chunk_size=_CHUNK):
                    out.write(chunk)
                    hashing.put(chunk)
                    partial.size += len(chunk)
                    if on_bytes is not None:
                        on_bytes(partial.size)
            finally:
                out.flush()
                hashing.close()
                os.fsync(out.fileno())
    if partial.size < size:
        raise _Transient(f"connection closed at byte {partial.size} of {size}")
