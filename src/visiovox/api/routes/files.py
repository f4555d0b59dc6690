"""Downloading a job's outputs, with single-range ``Range`` support.

On the local backend Starlette's ``FileResponse`` streams the file and answers
ranges; on S3 the object's range is streamed from a ranged GET, or, with
``storage.presign_downloads``, the answer is a 307 to a short-lived presigned
URL (the object store then answers ranges itself). This module decides the
range first so that an unsatisfiable one gets the standard JSON error (416
with ``Content-Range: bytes */size``) and a malformed or multi-range header is
ignored (a full 200, as RFC 9110 allows).
"""

from __future__ import annotations

import os
import re
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from visiovox.api.deps import CallerDep, FilesDep, ReaderDep, SettingsDep
from visiovox.api.errors import ApiError, job_not_found
from visiovox.api.ids import JobIdDep
from visiovox.api.schemas import ErrorBody
from visiovox.config import Settings
from visiovox.jobs.model import OutputFile
from visiovox.jobs.storage import JobFiles, UnsafeName

router = APIRouter(prefix="/v1/jobs", tags=["files"])

_SINGLE_RANGE = re.compile(r"\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*", re.IGNORECASE)
# More digits than any file size has: such a position is past every file's end. Reading
# it with int() would fail anyway past Python's 4300-digit limit.
_MAX_DIGITS = 18


class RangeNotSatisfiable(Exception):
    """No byte of the requested range exists in the file."""


def _position(digits: str) -> int:
    """A byte position from ``Range``; a longer number than any file size is past them all."""
    return int(digits) if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one ``[start, end)`` a ``Range`` header asks for, or None to send the whole file."""
    match = _SINGLE_RANGE.fullmatch(header or "")
    if match is None:
        return None
    first, last = match.groups()
    if first:
        start = _position(first)
        if last and _position(last) < start:
            return None
        end = min(_position(last) + 1, size) if last else size
    elif last:
        start, end = max(size - _position(last), 0), size
        if _position(last) == 0:
            raise RangeNotSatisfiable
    else:
        return None
    if start >= size:
        raise RangeNotSatisfiable
    return start, end


class OutputFileResponse(FileResponse):
    """A ``FileResponse`` that serves exactly the range this module decided (or none)."""

    def __init__(self, *args: Any, byte_range: tuple[int, int] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._byte_range = byte_range

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in scope["headers"] if k != b"range"]
        if self._byte_range is not None:
            start, end = self._byte_range
            headers.append((b"range", f"bytes={start}-{end - 1}".encode()))
        await super().__call__({**scope, "headers": headers}, receive, send)


@router.get(
    "/{job_id}/files/{name}",
    response_class=FileResponse,
    responses={
        **{code: {"model": ErrorBody} for code in (401, 404, 416, 503)},
        307: {"description": "storage.presign_downloads: a presigned URL of the object"},
    },
)
async def download_output(
    job_id: JobIdDep,
    name: str,
    request: Request,
    caller: CallerDep,
    reader: ReaderDep,
    files: FilesDep,
    settings: SettingsDep,
) -> Response:
    """One output of one of the caller's jobs; ``Range: bytes=a-b`` / ``a-`` / ``-n`` give 206."""
    job = await reader.get_for_owner(job_id, caller.owner)
    if job is None:
        raise job_not_found(job_id)
    output = next((o for o in job.outputs if o.name == name), None)
    if output is None:
        raise ApiError(404, "file_not_found", f"job {job_id!r} has no output {name!r}")
    # A bucket that does not answer is 503 storage_unavailable (api/errors.py).
    return await _download(files, job.id, output, request=request, settings=settings)


def _gone(name: str) -> ApiError:
    return ApiError(404, "file_not_found", f"the output {name!r} is no longer stored")


async def _download(
    files: JobFiles, job_id: str, output: OutputFile, *, request: Request, settings: Settings
) -> Response:
    """The output from the local folder, the bucket, or a redirect to a presigned URL."""
    try:
        local = files.local_output_path(job_id, output.name)
        stat = await anyio.to_thread.run_sync(os.stat, local) if local is not None else None
        size = stat.st_size if stat is not None else await _stored_size(files, job_id, output)
    except (UnsafeName, FileNotFoundError):
        raise _gone(output.name) from None
    if size is None:
        raise _gone(output.name)
    if local is None and settings.storage.presign_downloads:
        url = await anyio.to_thread.run_sync(
            lambda: files.output_url(
                job_id,
                output.name,
                ttl_s=settings.storage.presign_ttl_s,
                content_type=output.content_type,
            )
        )
        if url is not None:
            return RedirectResponse(url, status_code=307)
    try:
        byte_range = parse_range(request.headers.get("range"), size)
    except RangeNotSatisfiable:
        raise ApiError(
            416,
            "range_not_satisfiable",
            f"the file has {size} bytes; the requested range lies outside it",
            headers={"Content-Range": f"bytes */{size}"},
        ) from None
    if local is None:
        return await _stream_object(files, job_id, output, size=size, byte_range=byte_range)
    return OutputFileResponse(
        local,
        media_type=output.content_type,
        filename=output.name,
        stat_result=stat,
        byte_range=byte_range,
    )


async def _stored_size(files: JobFiles, job_id: str, output: OutputFile) -> int | None:
    return await anyio.to_thread.run_sync(files.output_size, job_id, output.name)


async def _stream_object(
    files: JobFiles,
    job_id: str,
    output: OutputFile,
    *,
    size: int,
    byte_range: tuple[int, int] | None,
) -> StreamingResponse:
    """The object (or its range) from the backend; each chunk is read in a worker thread."""
    start, end = byte_range or (0, size)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(end - start),
        "Content-Disposition": f'attachment; filename="{output.name}"',
    }
    if byte_range is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    try:
        # The request (a ranged GET) is made here, so a vanished object is a 404.
        chunks = await anyio.to_thread.run_sync(files.iter_output, job_id, output.name, start, end)
    except FileNotFoundError:
        raise _gone(output.name) from None
    return StreamingResponse(
        chunks,
        status_code=206 if byte_range is not None else 200,
        media_type=output.content_type,
        headers=headers,
    )
