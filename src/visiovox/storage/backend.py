"""The storage backend interface: blobs under ``/``-separated keys, whole or streamed.

Keys are built by the server (``jobs/storage.py``, ``jobs/voices.py``) from
checked names, never from client input as given.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

CHUNK_BYTES = 1024 * 1024


class BlobNotFound(FileNotFoundError):
    """No blob under the key (never stored, or removed by retention)."""


class StorageUnavailable(OSError):
    """The backend did not answer or refused a request (a network error, a 5xx, a bad key)."""


class BlobWriter(ABC):
    """One blob being written in pieces; visible under its key only after ``close``."""

    @abstractmethod
    def write(self, data: bytes) -> None:
        """Append ``data``."""

    @abstractmethod
    def close(self) -> None:
        """Finish the blob: from now on it is stored under its key."""

    @abstractmethod
    def abort(self) -> None:
        """Drop what was written; nothing stays behind (safe after ``close`` too)."""


class StorageBackend(ABC):
    """Where blobs live. Every method blocks; none takes a client's name unchecked."""

    kind: str

    def local_path(self, key: str) -> Path | None:
        """The blob's own file when the backend is a local folder, else None."""
        return None

    @abstractmethod
    def open_writer(self, key: str) -> BlobWriter:
        """A writer for a new blob under ``key`` (replacing any there once closed)."""

    @abstractmethod
    def put_file(self, key: str, source: Path) -> None:
        """Store the file ``source`` under ``key``."""

    @abstractmethod
    def get_file(self, key: str, dest: Path) -> None:
        """Copy the blob into the file ``dest`` (its folder made); ``BlobNotFound`` if none."""

    @abstractmethod
    def size(self, key: str) -> int | None:
        """The blob's size in bytes; None when there is none."""

    @abstractmethod
    def iter_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes ``[start, end)`` (``end`` None: to the end) in chunks; ``BlobNotFound``."""

    def read_bytes(self, key: str) -> bytes:
        """The whole blob (small ones: replies, metadata); ``BlobNotFound`` if none."""
        return b"".join(self.iter_range(key))

    @abstractmethod
    def rename(self, source: str, dest: str) -> None:
        """Move a blob to another key (S3: a server-side copy, then a delete)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove one blob; no error when there is none."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> None:
        """Remove every blob whose key starts with ``prefix`` (a folder: end it with ``/``)."""

    @abstractmethod
    def delete_stale_folders(self, prefix: str, age_s: float) -> int:
        """Remove each folder right under ``prefix`` whose newest blob is older than ``age_s``.

        Returns how many folders went.
        """

    def presigned_url(
        self, key: str, *, ttl_s: int, filename: str, content_type: str
    ) -> str | None:
        """A URL that downloads the blob without credentials for ``ttl_s``; None if unsupported."""
        return None
