"""Job files in the storage backend: ``jobs/{id}/in/…`` for uploads, ``jobs/{id}/out/…`` outputs.

Names are always chosen by the server; a client's filename is metadata only.
How gateways, workers and job code use ``JobFiles`` is told in
``visiovox/storage/__init__.py``. Free space under the root is checked
against ``storage.min_free_bytes`` before an upload is taken (``has_room``);
with an S3 backend the bucket has no such limit and ``has_room`` is always true.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from visiovox.errors import CodedError
from visiovox.jobs.disk import free_bytes
from visiovox.storage.backend import BlobNotFound, BlobWriter, StorageBackend
from visiovox.storage.local import LocalBackend

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
JOBS = "jobs/"
# Under the local root when the backend is remote: workers' workspaces, gateways' upload copies.
SCRATCH = "scratch"


class UnsafeName(ValueError):
    """A file name that could leave the job's folder."""


def check_name(name: str) -> str:
    """``name`` if it is a plain server-style file name, else ``UnsafeName``."""
    if not _SAFE_NAME.match(name) or ".." in name:
        raise UnsafeName(name)
    return name


class IncomingFile:
    """An upload being received: written to the backend while it streams, with a local copy.

    ``path`` is a local file holding the bytes written so far (the stored file
    itself on the local backend; a scratch copy on S3) for sniffing and probing.
    ``close`` ends the stream, ``keep`` gives the blob its final name and drops
    the scratch copy. On S3 a rename is a server-side copy, so the blob's name
    is chosen as soon as the first ``head_bytes`` are in: ``name_for(head)``
    (None: the field's name); ``keep`` then has nothing to move.
    """

    def __init__(
        self,
        files: JobFiles,
        *,
        job_id: str,
        field: str,
        name_for: Callable[[bytes], str | None] | None = None,
        head_bytes: int = 0,
    ) -> None:
        self._files = files
        self._job_id = job_id
        self._field = field
        self._name_for = name_for
        self._head_bytes = head_bytes
        self._head = bytearray()
        self._key = files.input_key(job_id, field)
        local = files.backend.local_path(self._key)
        self._copy: BinaryIO | None = None
        self._writer: BlobWriter | None = None
        if local is not None:
            self._writer = files.backend.open_writer(self._key)
            self.path = local
        else:
            self.path = files.upload_copy_path(job_id, field)
            self._copy = self.path.open("wb")

    def _open_writer(self) -> BlobWriter:
        """The remote blob, named from the head (sniffed) when ``name_for`` knows it."""
        name = self._name_for(bytes(self._head)) if self._name_for is not None else None
        self._key = self._files.input_key(self._job_id, name or self._field)
        writer = self._files.backend.open_writer(self._key)
        writer.write(bytes(self._head))
        self._head.clear()
        return writer

    def write(self, data: bytes) -> None:
        if self._copy is not None:
            self._copy.write(data)
        if self._writer is None:
            self._head.extend(data)
            if len(self._head) >= self._head_bytes:
                self._writer = self._open_writer()
            return
        self._writer.write(data)

    def close(self) -> None:
        """All bytes are in: finish the blob (an S3 multipart upload completes here)."""
        if self._copy is not None:
            self._copy.close()
        if self._writer is None:
            self._writer = self._open_writer()
        self._writer.close()

    def abort(self) -> None:
        """Leave nothing behind (an S3 multipart upload is aborted)."""
        if self._copy is not None:
            self._copy.close()
        if self._writer is not None:
            self._writer.abort()

    def keep(self, name: str) -> None:
        """Store the upload as ``name`` (the field plus its sniffed extension)."""
        dest = self._files.input_key(self._job_id, name)
        if dest != self._key:
            self._files.backend.rename(self._key, dest)
            self._key = dest
        local = self._files.backend.local_path(dest)
        if local is None:
            self.path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # the job's other uploads may still be there
                self.path.parent.rmdir()
        else:
            self.path = local


class JobWorkspace:
    """Local paths a pipeline reads its inputs from and writes its outputs to."""

    def __init__(self, files: JobFiles, *, job_id: str, folder: Path, staged: bool) -> None:
        self._files = files
        self._job_id = job_id
        self._staged = staged
        self.folder = folder
        (folder / "out").mkdir(parents=True, exist_ok=True)

    def input_path(self, name: str) -> Path:
        """The input's local file, fetched from the backend on first use when staged."""
        path = self.folder / "in" / check_name(name)
        if self._staged and not path.exists():
            try:
                self._files.fetch_input(self._job_id, name, path)
            except BlobNotFound:
                raise CodedError(
                    "input_gone", f"the job's input {name} is no longer stored"
                ) from None
        return path

    def output_path(self, name: str) -> Path:
        return self.folder / "out" / check_name(name)

    def publish(self, name: str) -> None:
        """Put the finished output ``name`` into the backend (a no-op on the local folder)."""
        if self._staged:
            self._files.put_output(self._job_id, name, self.output_path(name))


class JobFiles:
    """Finds, moves and cleans the files of jobs in one storage backend."""

    def __init__(
        self,
        root: Path,
        *,
        min_free_bytes: int = 0,
        backend: StorageBackend | None = None,
        remote_sweep_s: float = 0.0,
    ) -> None:
        self._root = root.resolve()
        self._min_free_bytes = min_free_bytes
        self.backend = backend or LocalBackend(self._root)
        self._remote_sweep_s = remote_sweep_s
        self._last_remote_sweep = float("-inf")

    @property
    def root(self) -> Path:
        """The local folder: the files themselves, or scratch space with a remote backend."""
        return self._root

    @property
    def is_local(self) -> bool:
        return self.backend.local_path(JOBS) is not None

    def job_prefix(self, job_id: str) -> str:
        return f"{JOBS}{check_name(job_id)}/"

    def input_key(self, job_id: str, name: str) -> str:
        return f"{self.job_prefix(job_id)}in/{check_name(name)}"

    def output_key(self, job_id: str, name: str) -> str:
        return f"{self.job_prefix(job_id)}out/{check_name(name)}"

    def local_input_path(self, job_id: str, name: str) -> Path | None:
        """The stored input itself on the local backend; None on a remote one."""
        return self.backend.local_path(self.input_key(job_id, name))

    def local_output_path(self, job_id: str, name: str) -> Path | None:
        """The stored output itself on the local backend; None on a remote one."""
        return self.backend.local_path(self.output_key(job_id, name))

    def upload_copy_path(self, job_id: str, field: str) -> Path:
        """Where a gateway keeps its local copy of an upload bound for a remote backend."""
        path = self._root / SCRATCH / "uploads" / check_name(job_id) / check_name(field)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def has_room(self) -> bool:
        """Whether the disk under the root keeps at least ``min_free_bytes`` free (local only)."""
        if self._min_free_bytes <= 0 or not self.is_local:
            return True
        return free_bytes(self._root) >= self._min_free_bytes

    def receive_input(
        self,
        job_id: str,
        field: str,
        *,
        name_for: Callable[[bytes], str | None] | None = None,
        head_bytes: int = 0,
    ) -> IncomingFile:
        """Start storing an upload of the form field ``field`` (see ``IncomingFile``)."""
        return IncomingFile(
            self, job_id=job_id, field=check_name(field), name_for=name_for, head_bytes=head_bytes
        )

    @contextmanager
    def workspace(self, job_id: str) -> Iterator[JobWorkspace]:
        """The job's local folder (local backend), or a scratch folder removed on exit."""
        local = self.backend.local_path(self.job_prefix(job_id))
        if local is not None:
            yield JobWorkspace(self, job_id=job_id, folder=local, staged=False)
            return
        folder = self._root / SCRATCH / "jobs" / f"{check_name(job_id)}.{uuid.uuid4().hex[:8]}"
        try:
            yield JobWorkspace(self, job_id=job_id, folder=folder, staged=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def put_input(self, job_id: str, name: str, source: Path) -> None:
        self.backend.put_file(self.input_key(job_id, name), source)

    def put_output(self, job_id: str, name: str, source: Path) -> None:
        self.backend.put_file(self.output_key(job_id, name), source)

    def fetch_input(self, job_id: str, name: str, dest: Path) -> None:
        """Copy a stored input to ``dest``; ``BlobNotFound`` when it is gone."""
        self.backend.get_file(self.input_key(job_id, name), dest)

    def fetch_output(self, job_id: str, name: str, dest: Path) -> None:
        """Copy a stored output to ``dest``; ``BlobNotFound`` when it is gone."""
        self.backend.get_file(self.output_key(job_id, name), dest)

    def output_size(self, job_id: str, name: str) -> int | None:
        return self.backend.size(self.output_key(job_id, name))

    def iter_output(self, job_id: str, name: str, start: int, end: int) -> Iterator[bytes]:
        """The output's bytes ``[start, end)`` in chunks."""
        return self.backend.iter_range(self.output_key(job_id, name), start, end)

    def read_output(self, job_id: str, name: str) -> bytes:
        """A whole (small) output: a spoken reply, a transcript."""
        return self.backend.read_bytes(self.output_key(job_id, name))

    def output_url(self, job_id: str, name: str, *, ttl_s: int, content_type: str) -> str | None:
        """A presigned download URL of the output; None on the local backend."""
        return self.backend.presigned_url(
            self.output_key(job_id, name), ttl_s=ttl_s, filename=name, content_type=content_type
        )

    def delete_job(self, job_id: str) -> None:
        """Remove every file of a job (and a gateway's copies of its uploads, first)."""
        if not self.is_local:
            shutil.rmtree(self._root / SCRATCH / "uploads" / check_name(job_id), ignore_errors=True)
        self.backend.delete_prefix(self.job_prefix(job_id))

    def delete_outputs(self, job_id: str) -> None:
        """Remove every output of a job, partial ones included."""
        self.backend.delete_prefix(f"{self.job_prefix(job_id)}out/")

    def delete_older_than(self, age_s: float) -> int:
        """Remove jobs none of whose files changed for ``age_s`` seconds; returns how many.

        With a remote backend, scratch folders left by a crash that old go too,
        and the backend is listed at most once per ``remote_sweep_s`` (0 otherwise).
        """
        if self.is_local:
            return self.backend.delete_stale_folders(JOBS, age_s)
        scratch = LocalBackend(self._root / SCRATCH)
        for folder in ("jobs/", "uploads/"):
            scratch.delete_stale_folders(folder, age_s)
        now = time.monotonic()
        if now - self._last_remote_sweep < self._remote_sweep_s:
            return 0
        self._last_remote_sweep = now
        return self.backend.delete_stale_folders(JOBS, age_s)
