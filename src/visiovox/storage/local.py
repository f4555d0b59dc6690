"""The local-folder backend: each key is a file under the storage root (the default)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from visiovox.storage.backend import CHUNK_BYTES, BlobNotFound, BlobWriter, StorageBackend


class LocalWriter(BlobWriter):
    """Writes straight into the final file (it is the upload's local copy too)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._handle: BinaryIO | None = path.open("wb")

    def write(self, data: bytes) -> None:
        assert self._handle is not None, "write after close"
        self._handle.write(data)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def abort(self) -> None:
        self.close()
        self._path.unlink(missing_ok=True)


class LocalBackend(StorageBackend):
    """Blobs as files under ``root``; staging through a workspace copies nothing."""

    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def local_path(self, key: str) -> Path:
        return self.root / key

    def open_writer(self, key: str) -> LocalWriter:
        return LocalWriter(self.local_path(key))

    def put_file(self, key: str, source: Path) -> None:
        dest = self.local_path(key)
        if dest != source.resolve():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)

    def get_file(self, key: str, dest: Path) -> None:
        source = self.local_path(key)
        if source == dest.resolve():
            if not source.is_file():
                raise BlobNotFound(key)
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(source, dest)
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def size(self, key: str) -> int | None:
        try:
            return self.local_path(key).stat().st_size
        except FileNotFoundError:
            return None

    def iter_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        try:
            handle = self.local_path(key).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        with handle:
            handle.seek(start)
            left = None if end is None else end - start
            while left is None or left > 0:
                chunk = handle.read(CHUNK_BYTES if left is None else min(CHUNK_BYTES, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def rename(self, source: str, dest: str) -> None:
        try:
            os.replace(self.local_path(source), self.local_path(dest))
        except FileNotFoundError:
            raise BlobNotFound(source) from None

    def delete(self, key: str) -> None:
        self.local_path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        path = self.local_path(prefix)
        if prefix.endswith("/") or path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

    def delete_stale_folders(self, prefix: str, age_s: float) -> int:
        # A folder's mtime changes whenever an entry is added or removed in it: a job's
        # folder is touched by its last upload and its in/ and out/ folders' creation.
        folders = self.local_path(prefix)
        if not folders.is_dir():
            return 0
        cutoff = time.time() - age_s
        removed = 0
        for folder in folders.iterdir():
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed
