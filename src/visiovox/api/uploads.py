"""The intake of a job submission: params and files, checked before a job exists.

Bodies may be ``multipart/form-data`` (files and text fields),
``application/x-www-form-urlencoded`` (``curl -d``) or a JSON object (params
only). The size cap applies while the body streams in. Each file's type comes
from its bytes (never its name or header), is matched against what the
pipeline accepts, then probed for duration and dimensions; the file is renamed
to its field name plus the sniffed extension. Files go to the storage backend
as they stream (``JobFiles.receive_input``), with a local copy to check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import anyio
import anyio.to_thread
from fastapi import Request
from python_multipart.multipart import parse_options_header

from visiovox.api.errors import ApiError, storage_unavailable
from visiovox.api.json_body import parse_json
from visiovox.api.multipart import (
    FieldValue,
    ReceivedFile,
    ReceivedForm,
    add_field,
    capped_chunks,
    read_multipart,
    too_large,
)
from visiovox.config import UploadSettings
from visiovox.jobs.disk import is_disk_full
from visiovox.jobs.model import InputFile
from visiovox.jobs.storage import IncomingFile, JobFiles
from visiovox.media.errors import MediaError
from visiovox.media.kinds import MediaKind
from visiovox.media.probe import MediaInfo, probe_media
from visiovox.media.sniff import SNIFF_BYTES, Sniffed, sniff_bytes, sniff_file
from visiovox.pipelines.spec import PipelineSpec
from visiovox.storage.backend import StorageUnavailable

log = logging.getLogger(__name__)

# A params-only body (JSON or urlencoded) never needs more than this.
MAX_PARAMS_BODY_BYTES = 1024 * 1024
# Media errors that are about size answer 413; the rest mean a bad file.
_MEDIA_ERROR_STATUS = {"too_long": 413, "too_large": 413}


@dataclass(frozen=True)
class Submission:
    """What a client sent: raw param values and the stored, checked input files."""

    params: dict[str, Any]
    inputs: list[InputFile]


async def receive_submission(
    request: Request,
    *,
    spec: PipelineSpec,
    job_id: str,
    files: JobFiles,
    limits: UploadSettings,
) -> Submission:
    """Read and check the body of a submission; files land under the job's ``in/`` folder.

    On any failure the files written so far are removed before the error propagates.
    A disk under ``storage.min_free_bytes``, or one that fills while the files are
    written, answers 507 ``insufficient_storage``.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_bytes:
        raise too_large(limits.max_bytes)
    media_type, options = parse_options_header(request.headers.get("content-type"))
    if media_type == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise ApiError(400, "invalid_multipart", "multipart/form-data needs a boundary")
        if not await anyio.to_thread.run_sync(files.has_room):
            raise _insufficient_storage()
        try:
            form = await read_multipart(
                capped_chunks(request.stream(), max_bytes=limits.max_bytes),
                boundary=boundary,
                open_file=lambda field: _receive_upload(spec, files, job_id=job_id, field=field),
            )
            inputs = await _check_files(form, spec=spec, limits=limits)
        except BaseException as exc:
            await discard_job_files(files, job_id)
            if is_disk_full(exc):
                raise _insufficient_storage() from exc
            if isinstance(exc, StorageUnavailable):
                log.error("job %s: upload not stored: %s", job_id, exc)
                raise storage_unavailable() from exc
            raise
        return Submission(params=dict(form.fields), inputs=inputs)
    _check_required(spec, sent=set())
    body = await _read_small_body(request)
    if media_type == b"application/json":
        return Submission(params=_json_object(body), inputs=[])
    if media_type == b"application/x-www-form-urlencoded" or not body.strip():
        try:
            # errors="strict": a percent-encoded byte that is not UTF-8 (%FF) is refused
            # too, not read as U+FFFD.
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError as exc:
            raise ApiError(400, "invalid_body", "the form body is not UTF-8") from exc
        fields: dict[str, FieldValue] = {}
        for name, value in pairs:
            add_field(fields, name, value)
        return Submission(params=fields, inputs=[])
    raise ApiError(
        415,
        "unsupported_content_type",
        "send multipart/form-data, application/x-www-form-urlencoded or application/json",
    )


def _insufficient_storage() -> ApiError:
    # Never the error's own text: it names the server's path.
    return ApiError(507, "insufficient_storage", "the server's storage is full; retry later")


async def discard_job_files(files: JobFiles, job_id: str) -> None:
    """Remove a job's stored uploads; shielded, so a client hanging up cannot skip it."""
    with anyio.CancelScope(shield=True):
        try:
            await anyio.to_thread.run_sync(files.delete_job, job_id)
        except StorageUnavailable as exc:  # retention removes them once the backend answers
            log.warning("job %s: stored uploads not removed yet: %s", job_id, exc)


def _receive_upload(
    spec: PipelineSpec, files: JobFiles, *, job_id: str, field: str
) -> IncomingFile:
    if spec.input(field) is None:
        accepted = ", ".join(i.field for i in spec.inputs) or "none"
        raise ApiError(
            400,
            "unknown_input",
            f"{spec.name} takes no file field {field!r} (file fields: {accepted})",
        )
    return files.receive_input(
        job_id, field, name_for=lambda head: _stored_name(field, head), head_bytes=SNIFF_BYTES
    )


def _stored_name(field: str, head: bytes) -> str | None:
    """What ``_check_file`` will name the file, guessed from its first bytes."""
    sniffed = sniff_bytes(head)
    return f"{field}.{sniffed.extension}" if sniffed is not None else None


async def _read_small_body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in capped_chunks(request.stream(), max_bytes=MAX_PARAMS_BODY_BYTES):
        body.extend(chunk)
    return bytes(body)


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = parse_json(body)
    except ValueError as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_json", "the JSON body must be an object of params")
    return value


def _check_required(spec: PipelineSpec, *, sent: set[str]) -> None:
    missing = [i.field for i in spec.inputs if i.required and i.field not in sent]
    if missing:
        raise ApiError(
            422,
            "missing_input",
            f"{spec.name} needs the file field(s): {', '.join(missing)} (send multipart/form-data)",
        )


async def _check_files(
    form: ReceivedForm, *, spec: PipelineSpec, limits: UploadSettings
) -> list[InputFile]:
    _check_required(spec, sent={f.field for f in form.files})
    return [await _check_file(received, spec=spec, limits=limits) for received in form.files]


def _accepts(kinds: frozenset[MediaKind], kind: MediaKind) -> bool:
    # An MP4/WebM/Matroska container sniffs as video but may hold only audio:
    # let probing decide when the field takes audio.
    return kind in kinds or (kind is MediaKind.VIDEO and MediaKind.AUDIO in kinds)


def _unsupported(field: str, kinds: frozenset[MediaKind], found: str) -> ApiError:
    accepted = ", ".join(sorted(k.value for k in kinds))
    return ApiError(
        415,
        "unsupported_media_type",
        f"the file in {field!r} is {found}; this field accepts: {accepted}",
    )


async def _check_file(
    received: ReceivedFile, *, spec: PipelineSpec, limits: UploadSettings
) -> InputFile:
    input_spec = spec.input(received.field)
    assert input_spec is not None  # unknown fields were refused while streaming
    if received.size == 0:
        raise ApiError(400, "empty_upload", f"the file in {received.field!r} is empty")
    sniffed = await anyio.to_thread.run_sync(sniff_file, received.path)
    if sniffed is None or not _accepts(input_spec.kinds, sniffed.kind):
        found = "not a recognised media format" if sniffed is None else f"{sniffed.kind.value}"
        raise _unsupported(received.field, input_spec.kinds, found)
    try:
        info = await anyio.to_thread.run_sync(_probe, received.path, sniffed, limits)
    except MediaError as exc:
        status = _MEDIA_ERROR_STATUS.get(exc.code, 400)
        raise ApiError(status, exc.code, f"{received.field}: {exc.message}") from exc
    if info.kind not in input_spec.kinds:
        raise _unsupported(received.field, input_spec.kinds, info.kind.value)
    name = f"{received.field}.{sniffed.extension}"
    assert isinstance(received.sink, IncomingFile)  # receive_submission opened every sink
    await anyio.to_thread.run_sync(received.sink.keep, name)
    content_type = sniffed.content_type
    if info.kind is MediaKind.AUDIO and sniffed.kind is MediaKind.VIDEO:
        content_type = "audio/" + content_type.partition("/")[2]
    return InputFile(
        field=received.field,
        name=name,
        content_type=content_type,
        size=received.size,
        filename=received.filename,
        sha256=received.sha256,
        duration_s=info.duration_s,
        width=info.width,
        height=info.height,
    )


def _probe(path: Path, sniffed: Sniffed, limits: UploadSettings) -> MediaInfo:
    return probe_media(
        path,
        kind=sniffed.kind,
        max_duration_s=limits.max_duration_s,
        max_pixels=limits.max_pixels,
    )
