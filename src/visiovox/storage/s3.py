"""The S3-compatible backend (AWS S3, MinIO, Ceph RGW, Cloudflare R2) on boto3.

Credentials come from boto's usual chain (``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY``, a profile, an instance role). Uploads that stream
in go up as a multipart upload of ``storage.s3.part_size_bytes`` parts, up to
``storage.s3.upload_concurrency`` of them in flight while the stream goes on
(at most 10,000 parts: 80 GB at the default 8 MiB); one that fails is aborted.
Retention also aborts multipart uploads a crash left behind (a bucket lifecycle
rule ``AbortIncompleteMultipartUpload`` does the same server-side).
botocore's errors surface as ``BlobNotFound`` or ``StorageUnavailable``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from visiovox.config_storage import S3Settings
from visiovox.storage.backend import (
    CHUNK_BYTES,
    BlobNotFound,
    BlobWriter,
    StorageBackend,
    StorageUnavailable,
)

_MISSING = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchUpload"})
# DeleteObjects takes at most this many keys per call.
_DELETE_BATCH = 1000


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING


@contextmanager
def _answering(key: str) -> Iterator[None]:
    """botocore's errors as ``BlobNotFound`` (no such key) or ``StorageUnavailable``."""
    try:
        yield
    except ClientError as exc:
        if _is_missing(exc):
            raise BlobNotFound(key) from None
        raise StorageUnavailable(f"S3 refused a request for {key}: {exc}") from exc
    except BotoCoreError as exc:
        raise StorageUnavailable(f"S3 did not answer a request for {key}: {exc}") from exc


class S3Writer(BlobWriter):
    """Sends each full part while the next fills; a blob under one part is a single PUT.

    Up to ``concurrency`` parts are in flight at once (on the backend's thread
    pool), so a stream is held back only when that many are still going up.
    """

    def __init__(
        self,
        client: Any,
        *,
        bucket: str,
        key: str,
        part_size: int,
        pool: ThreadPoolExecutor,
        concurrency: int,
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._part_size = part_size
        self._pool = pool
        self._concurrency = concurrency
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._in_flight: deque[Future[dict[str, Any]]] = deque()
        self._parts: list[dict[str, Any]] = []
        self._stored = False

    def write(self, data: bytes) -> None:
        self._buffer.extend(data)
        while len(self._buffer) >= self._part_size:
            self._send_part(bytes(self._buffer[: self._part_size]))
            del self._buffer[: self._part_size]

    def _send_part(self, body: bytes) -> None:
        if self._upload_id is None:
            with _answering(self._key):
                created = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)
            self._upload_id = created["UploadId"]
        while len(self._in_flight) >= self._concurrency:
            self._settle_oldest()
        number = len(self._parts) + len(self._in_flight) + 1
        self._in_flight.append(self._pool.submit(self._upload_part, self._upload_id, number, body))

    def _upload_part(self, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
        with _answering(self._key):
            sent = self._client.upload_part(
                Bucket=self._bucket, Key=self._key, UploadId=upload_id, PartNumber=number, Body=body
            )
        return {"ETag": sent["ETag"], "PartNumber": number}

    def _settle_oldest(self) -> None:
        """Wait for the oldest part in flight; its failure is this writer's."""
        self._parts.append(self._in_flight.popleft().result())

    def close(self) -> None:
        if self._stored:
            return
        if self._upload_id is None:
            with _answering(self._key):
                self._client.put_object(
                    Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer)
                )
        else:
            if self._buffer:
                self._send_part(bytes(self._buffer))
            while self._in_flight:
                self._settle_oldest()
            with _answering(self._key):
                self._client.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=self._key,
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},
                )
        self._buffer.clear()
        self._stored = True

    def abort(self) -> None:
        self._buffer.clear()
        # Parts still going up would land after the abort: wait them out, whatever they gave.
        wait(list(self._in_flight))
        self._in_flight.clear()
        try:
            with _answering(self._key):
                if self._stored:
                    self._client.delete_object(Bucket=self._bucket, Key=self._key)
                elif self._upload_id is not None:
                    self._client.abort_multipart_upload(
                        Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
                    )
        except BlobNotFound:
            pass  # already gone (NoSuchUpload: retention or another abort came first)
        self._upload_id = None


class S3Backend(StorageBackend):
    """Blobs as objects ``<prefix><key>`` in one bucket."""

    kind = "s3"

    def __init__(self, settings: S3Settings) -> None:
        self._bucket = settings.bucket
        self._prefix = settings.prefix
        self._part_size = settings.part_size_bytes
        self._transfer = TransferConfig(
            multipart_threshold=settings.part_size_bytes,
            multipart_chunksize=settings.part_size_bytes,
        )
        # A session of its own: boto3's default session is not safe to share between threads.
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region,
            config=Config(
                s3={"addressing_style": settings.addressing_style},
                signature_version="s3v4",
                retries={"mode": "standard"},
                max_pool_connections=32,  # the part pool's 16 and the other calls
            ),
        )

        self._concurrency = settings.upload_concurrency
        # Shared by every upload of the process; each holds at most upload_concurrency parts.
        self._part_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="s3-part")
        self._uploads_seen: dict[str, float] = {}
        self._seen_lock = threading.Lock()

    def _object(self, key: str) -> str:
        return self._prefix + key

    def open_writer(self, key: str) -> S3Writer:
        return S3Writer(
            self._client,
            bucket=self._bucket,
            key=self._object(key),
            part_size=self._part_size,
            pool=self._part_pool,
            concurrency=self._concurrency,
        )

    def put_file(self, key: str, source: Path) -> None:
        with _answering(key):
            self._upload_file(key, source)

    def _upload_file(self, key: str, source: Path) -> None:
        self._client.upload_file(
            str(source), self._bucket, self._object(key), Config=self._transfer
        )

    def get_file(self, key: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with _answering(key):
            self._client.download_file(
                self._bucket, self._object(key), str(dest), Config=self._transfer
            )

    def size(self, key: str) -> int | None:
        try:
            with _answering(key):
                head = self._client.head_object(Bucket=self._bucket, Key=self._object(key))
        except BlobNotFound:
            return None
        return int(head["ContentLength"])

    def iter_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        if end is not None and end <= start:
            return iter(())
        request: dict[str, Any] = {"Bucket": self._bucket, "Key": self._object(key)}
        if start > 0 or end is not None:
            request["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        with _answering(key):
            body = self._client.get_object(**request)["Body"]
        return _closing_chunks(body)

    def rename(self, source: str, dest: str) -> None:
        copy_source = {"Bucket": self._bucket, "Key": self._object(source)}
        with _answering(source):
            self._client.copy(copy_source, self._bucket, self._object(dest), Config=self._transfer)
        self.delete(source)

    def delete(self, key: str) -> None:
        with _answering(key):
            self._client.delete_object(Bucket=self._bucket, Key=self._object(key))

    def _list(self, prefix: str) -> Iterator[dict[str, Any]]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=self._object(prefix)
        )
        for page in pages:
            yield from page.get("Contents", [])

    def _delete_objects(self, keys: list[str]) -> None:
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start : start + _DELETE_BATCH]]
            self._client.delete_objects(
                Bucket=self._bucket, Delete={"Objects": batch, "Quiet": True}
            )

    def delete_prefix(self, prefix: str) -> None:
        with _answering(prefix):
            self._delete_objects([item["Key"] for item in self._list(prefix)])

    def delete_stale_folders(self, prefix: str, age_s: float) -> int:
        with _answering(prefix):
            return self._delete_stale_folders(prefix, age_s)

    def _delete_stale_folders(self, prefix: str, age_s: float) -> int:
        cutoff = datetime.now(UTC) - timedelta(seconds=age_s)
        newest: dict[str, datetime] = {}
        keys: dict[str, list[str]] = {}
        skip = len(self._object(prefix))
        for item in self._list(prefix):
            folder = item["Key"][skip:].split("/", 1)[0]
            keys.setdefault(folder, []).append(item["Key"])
            newest[folder] = max(newest.get(folder, item["LastModified"]), item["LastModified"])
        stale = [folder for folder, modified in newest.items() if modified < cutoff]
        self._delete_objects([key for folder in stale for key in keys[folder]])
        self._abort_stale_uploads(prefix, age_s)
        return len(stale)

    def _abort_stale_uploads(self, prefix: str, age_s: float) -> None:
        """Abort multipart uploads this process has seen open for ``age_s`` (a gateway died).

        Timed from this process's first sighting, not the server's ``Initiated``
        (emulators report a fixed date there): a stale upload goes at the first
        sweep ``age_s`` after one that saw it.
        """
        pages = self._client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self._bucket, Prefix=self._object(prefix)
        )
        now = time.time()
        uploads = [upload for page in pages for upload in page.get("Uploads", [])]
        listed = {upload["UploadId"]: upload["Key"] for upload in uploads}
        with self._seen_lock:
            self._uploads_seen = {upload: self._uploads_seen.get(upload, now) for upload in listed}
            stale = [upload for upload, seen in self._uploads_seen.items() if seen <= now - age_s]
        for upload in stale:
            try:
                with _answering(listed[upload]):
                    self._client.abort_multipart_upload(
                        Bucket=self._bucket, Key=listed[upload], UploadId=upload
                    )
            except BlobNotFound:
                pass

    def presigned_url(self, key: str, *, ttl_s: int, filename: str, content_type: str) -> str:
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": self._object(key),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=ttl_s,
        )
        return url


def _closing_chunks(body: Any) -> Iterator[bytes]:
    with body:
        yield from body.iter_chunks(CHUNK_BYTES)
