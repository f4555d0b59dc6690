"""Resumable HTTP(S) download of one model file, hashed as it arrives.

Bytes go to ``.<name>.download`` beside the target. A cut connection or a
stalled read is retried with ``Range: bytes=<have>-`` (a server that answers
200 instead of 206 is read from the start again), so neither a flaky link nor
a killed process makes anyone fetch the same bytes twice. The file is renamed
into place only once its size and digest (sha256, or md5) match the manifest; a mismatch
deletes it. Callers hold the model's lock, so one process writes a given file.

The body is read straight into a few 1 MiB buffers, each written with one
``write`` and then fed to the digest on a helper thread (hashlib releases the GIL),
so hashing overlaps the socket and nothing is read twice. There is no
fsync: a crash of the process loses nothing the page cache holds, and the
model cache hashes a file again after a reboot before trusting it (see
``cache.FileStamp.boot_id``), which covers what a power cut could lose.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from visiovox.models.hashing import Digest

log = logging.getLogger(__name__)

DOWNLOAD_SUFFIX = ".download"
# 1 MiB buffers measured fastest on loopback: larger ones fall out of the CPU
# cache between the write and the hash of the same bytes.
_CHUNK = 1024 * 1024
_BUFFERS = 4
_MAX_BACKOFF_S = 5.0


class DownloadFailed(Exception):
    """The URL cannot provide the file (after retries, or for good)."""


class _Transient(Exception):
    """A server-side hiccup worth another attempt (5xx, a short body)."""


# A body cut short surfaces as ChunkedEncodingError ("IncompleteRead"), not a ConnectionError.
_RETRYABLE: tuple[type[Exception], ...] = (
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
    digest: Digest,
    attempts: int = 5,
    timeout_s: float = 30.0,
    on_bytes: Callable[[int], None] | None = None,
    session: requests.Session | None = None,
) -> None:
    """Make ``dest`` the verified file at ``url``, resuming any partial one."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = _Partial(partial_path(dest), digest)
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
        partial.place(dest, url=url, size=size)
    finally:
        if session is None:
            http.close()


class _Partial:
    """The partial file and the digest of its bytes, updated as they arrive (no second read)."""

    def __init__(self, path: Path, expected: Digest) -> None:
        self.path = path
        self.size = 0
        self._expected = expected
        self._digest = expected.new()
        self._sync()

    def open(self, *, resume: bool) -> _WriteBehind:
        """A writer appending to the file (its digest in step), or emptying it when not resuming."""
        if resume:
            self._sync()
        else:
            self.size = 0
            self._digest = self._expected.new()
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if resume else os.O_TRUNC)
        return _WriteBehind(self._digest, os.open(self.path, flags, 0o644))

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        self._sync()

    def place(self, dest: Path, *, url: str, size: int) -> None:
        """Rename into ``dest`` if size and digest match; otherwise delete and raise."""
        got = self._digest.hexdigest()
        if self.size != size or got != self._expected.hexdigest:
            got_size = self.size
            self.discard()
            raise DownloadFailed(
                f"{url} gave {got_size} bytes with {self._expected.algorithm} {got}, expected "
                f"{size} bytes with {self._expected.pin}; the download was deleted"
            )
        os.replace(self.path, dest)

    def _sync(self) -> None:
        """Hash what the file holds if it is not what we last wrote (a leftover, a failed write)."""
        on_disk = self.path.stat().st_size if self.path.exists() else 0
        if on_disk == self.size:
            return
        self._digest = self._expected.new()
        self.size = 0
        if on_disk:
            with open(self.path, "rb") as handle:
                while block := handle.read(8 * _CHUNK):
                    self._digest.update(block)
                    self.size += len(block)


class _WriteBehind:
    """Buffers to read the body into, written at once and hashed behind on a helper thread.

    ``take`` hands out an empty buffer (waiting while all are in flight);
    ``append`` writes a filled one to the file with one ``write`` and queues it
    for the digest, which a helper thread feeds (hashlib releases the GIL) before
    returning the buffer to the free list. So the file always holds exactly the
    bytes appended (what resuming relies on), and ``close`` waits until the
    digest has them all too. On loopback this split was 5-32 % faster than the
    helper both writing and hashing (docs/benchmarks.md).
    """

    def __init__(self, digest: hashlib._Hash, fd: int) -> None:
        self._digest = digest
        self._fd = fd
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(_BUFFERS):
            self._free.put(bytearray(_CHUNK))
        self._hashing: queue.SimpleQueue[tuple[bytearray, int] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="visiovox-sha256", daemon=True)
        self._thread.start()

    def take(self) -> bytearray:
        return self._free.get()

    def give_back(self, buffer: bytearray) -> None:
        """Return a buffer that holds nothing to write (end of body, failed read)."""
        self._free.put(buffer)

    def append(self, buffer: bytearray, length: int) -> None:
        """Write ``buffer[:length]`` to the file, then hash it behind."""
        view = memoryview(buffer)[:length]
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:
            self._free.put(buffer)
            raise
        self._hashing.put((buffer, length))

    def close(self) -> None:
        self._hashing.put(None)
        self._thread.join()
        os.close(self._fd)

    def _run(self) -> None:
        while (item := self._hashing.get()) is not None:
            buffer, length = item
            self._digest.update(memoryview(buffer)[:length])
            self._free.put(buffer)


def _body_reader(response: requests.Response) -> Callable[[bytearray], int] | None:
    """``readinto`` of the socket-level response, when the body arrives as is.

    urllib3's own ``readinto`` reads into a new bytes object and copies it (twice
    the memory traffic, about half the loopback throughput), so an identity-encoded
    body is read through the ``http.client`` response urllib3 wraps; anything
    else (a compressed body) goes through ``iter_content``.
    """
    if response.headers.get("Content-Encoding", "identity").lower() != "identity":
        return None
    inner = getattr(response.raw, "_fp", None)
    return inner.readinto if isinstance(inner, http.client.HTTPResponse) else None


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
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    with http.get(url, headers=headers, stream=True, timeout=timeout_s) as response:
        if response.status_code == 416:  # our offset is past the end: start over
            partial.discard()
            raise _Transient("range not satisfiable")
        if response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code not in (200, 206):
            raise DownloadFailed(f"{url}: HTTP {response.status_code}")
        # 200 to a Range request: the server ignored it, so take it all again.
        writer = partial.open(resume=response.status_code == 206)
        try:
            if on_bytes is not None:
                on_bytes(partial.size)
            _copy_body(response, writer, partial=partial, on_bytes=on_bytes)
        finally:
            writer.close()
    if partial.size < size:
        raise _Transient(f"connection closed at byte {partial.size} of {size}")


def _copy_body(
    response: requests.Response,
    writer: _WriteBehind,
    *,
    partial: _Partial,
    on_bytes: Callable[[int], None] | None,
) -> None:
    readinto = _body_reader(response)
    chunks = None if readinto is not None else response.iter_content(chunk_size=_CHUNK)
    while True:
        buffer = writer.take()
        try:
            if readinto is not None:
                length = readinto(buffer)
            else:
                buffer[:] = next(chunks, b"")  # type: ignore[arg-type]
                length = len(buffer)
        except (OSError, http.client.HTTPException) as exc:
            writer.give_back(buffer)
            # A timeout or reset of the socket itself (requests wraps neither here).
            raise _Transient(f"read failed: {exc}") from exc
        if not length:
            writer.give_back(buffer)
            return
        writer.append(buffer, length)
        partial.size += length
        if on_bytes is not None:
            on_bytes(partial.size)
