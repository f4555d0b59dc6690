"""Owners' own RVC voices: register (``POST``), list, read and delete.

``POST /v1/voices`` takes multipart ``model`` (an RVC v2 synthesizer exported
to ONNX by RVC's own export), an optional ``index`` (the feature bank as a
``.npy`` of (rows, 768) vectors), ``name``, ``sample_rate`` (32000, 40000 or
48000) and an optional ``f0_median_hz``. The gateway only bounds the sizes
(the owner's ``voices.max_bytes`` left, ``voices.max_per_owner``), checks the
fields and the ``.npy`` magic, stores the files under ``<storage
root>/voices/<id>/`` and answers 202 with the voice (``validating``) and its
``voice-validate`` job; the ONNX graph is parsed only by that worker job
(importing ``onnx`` here would load protobuf's graph code for one route). The
voice is ``ready`` once the job succeeded; a voice whose job failed is removed
with its files, and the job shows why (``invalid_voice_model``). Another
owner's voice id answers 404 ``voice_not_found``, like an unknown one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, get_args

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError, field_validator
from python_multipart.multipart import parse_options_header

from visiovox.api.deps import CallerDep, ReaderDep, RedisDep, SettingsDep, SubmitDep
from visiovox.api.errors import ApiError, invalid_params
from visiovox.api.multipart import LocalFileSink, capped_chunks, read_multipart
from visiovox.api.schemas import ErrorBody, JobOut
from visiovox.jobs.ids import is_issued_id, new_id
from visiovox.jobs.voices import (
    BANK_FILE,
    MODEL_FILE,
    Voice,
    VoiceFiles,
    VoiceLimit,
    VoiceRegistry,
    new_voice,
    voice_files,
)
from visiovox.pipelines.voice_validate.spec import RvcSampleRate

router = APIRouter(prefix="/v1/voices", tags=["voices"])

VALIDATION_PIPELINE = "voice-validate"
FILE_FIELDS = {"model": MODEL_FILE, "index": BANK_FILE}
NPY_MAGIC = b"\x93NUMPY"
# Room for the form's text fields and part headers beside the files.
FORM_OVERHEAD = 64 * 1024


class VoiceForm(BaseModel):
    """The text fields of a registration."""

    name: str = Field(min_length=1, max_length=64)
    sample_rate: int
    f0_median_hz: float | None = Field(default=None, ge=50.0, le=1100.0)

    @field_validator("sample_rate")
    @classmethod
    def _rvc_rate(cls, value: int) -> int:
        if value not in get_args(RvcSampleRate):
            raise ValueError(f"must be one of {', '.join(map(str, get_args(RvcSampleRate)))}")
        return value


class VoiceOut(BaseModel):
    """A voice as its owner sees it."""

    id: str
    name: str
    sample_rate: int
    status: str
    job_id: str
    bytes: int
    has_index: bool
    created_at: float
    f0_median_hz: float | None


class VoiceList(BaseModel):
    voices: list[VoiceOut]


class VoiceRegistered(BaseModel):
    voice: VoiceOut
    job: JobOut


async def _registry(settings: SettingsDep, client: RedisDep, reader: ReaderDep) -> VoiceRegistry:
    files = voice_files(settings.storage)
    return VoiceRegistry(client, prefix=settings.redis.prefix, files=files, reader=reader)


RegistryDep = Annotated[VoiceRegistry, Depends(_registry)]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}


def voice_not_found(voice_id: str) -> ApiError:
    """Also the answer for another owner's voice: ids do not leak."""
    return ApiError(404, "voice_not_found", f"no voice {voice_id[:64]!r}")


@router.post(
    "",
    status_code=202,
    response_model=VoiceRegistered,
    responses=_errors(400, 409, 413, 415, 422, 503),
)
async def register_voice(
    request: Request,
    caller: CallerDep,
    settings: SettingsDep,
    submissions: SubmitDep,
    registry: RegistryDep,
) -> Response:
    """Upload an RVC voice; 202 with the voice (``validating``) and its validation job."""
    caps = settings.voices
    count, used = await registry.usage(caller.owner)
    if count >= caps.max_per_owner:
        raise _limit("count", caps.max_per_owner, caps.max_bytes)
    room = caps.max_bytes - used
    boundary = _boundary(request)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > room + FORM_OVERHEAD:
        raise _limit("bytes", caps.max_per_owner, caps.max_bytes)
    intake = await submissions.place(submissions.intake(VALIDATION_PIPELINE))
    files = voice_files(settings.storage)
    voice_id = new_id()
    try:
        form = await read_multipart(
            capped_chunks(request.stream(), max_bytes=room + FORM_OVERHEAD),
            boundary=boundary,
            open_file=lambda field: LocalFileSink(_file_path(files, voice_id, field)),
        )
        fields = _form_fields(form.fields)
        sizes = {item.field: item.size for item in form.files}
        if "model" not in sizes:
            raise ApiError(422, "missing_input", "the file field 'model' is required")
        if sum(sizes.values()) > room:
            raise _limit("bytes", caps.max_per_owner, caps.max_bytes)
        if "index" in sizes:
            _check_npy(files.bank(voice_id))
        voice = new_voice(
            voice_id=voice_id,
            owner=caller.owner,
            name=fields.name,
            sample_rate=fields.sample_rate,
            job_id=intake.job_id,
            size=sum(sizes.values()),
            has_index="index" in sizes,
            f0_median_hz=fields.f0_median_hz,
        )
        files.write_meta(voice_id, sample_rate=fields.sample_rate, f0_median_hz=fields.f0_median_hz)
        await anyio.to_thread.run_sync(files.publish, voice_id)
        await registry.create(voice, max_count=caps.max_per_owner, max_bytes=caps.max_bytes)
    except VoiceLimit as exc:
        await _discard(files, voice_id)
        raise _limit(exc.which, caps.max_per_owner, caps.max_bytes) from exc
    except BaseException:
        await _discard(files, voice_id)
        raise
    try:
        job, _ = await submissions.submit(
            intake,
            caller=caller,
            params={"voice_id": voice_id, "sample_rate": fields.sample_rate},
        )
    except BaseException:
        await registry.delete(voice_id, caller.owner)
        raise
    body = VoiceRegistered(voice=_out(voice), job=JobOut.from_job(job))
    return Response(
        body.model_dump_json(),
        status_code=202,
        media_type="application/json",
        headers={"Location": f"/v1/voices/{voice_id}"},
    )


@router.get("", response_model=VoiceList)
async def list_voices(caller: CallerDep, registry: RegistryDep) -> VoiceList:
    """The caller's voices, oldest first (those whose validation failed are gone)."""
    return VoiceList(voices=[_out(voice) for voice in await registry.list(caller.owner)])


@router.get("/{voice_id}", response_model=VoiceOut, responses=_errors(404))
async def get_voice(voice_id: str, caller: CallerDep, registry: RegistryDep) -> VoiceOut:
    """One of the caller's voices; 404 ``voice_not_found`` for anyone else's."""
    voice = await registry.get(voice_id, caller.owner) if is_issued_id(voice_id) else None
    if voice is None:
        raise voice_not_found(voice_id)
    return _out(voice)


@router.delete("/{voice_id}", status_code=204, responses=_errors(404))
async def delete_voice(voice_id: str, caller: CallerDep, registry: RegistryDep) -> Response:
    """Remove one of the caller's voices and its files."""
    if not (is_issued_id(voice_id) and await registry.delete(voice_id, caller.owner)):
        raise voice_not_found(voice_id)
    return Response(status_code=204)


def _out(voice: Voice) -> VoiceOut:
    return VoiceOut(**voice.public())


def _limit(which: str, max_count: int, max_bytes: int) -> ApiError:
    if which == "count":
        return ApiError(409, "voice_limit", f"an owner keeps at most {max_count} voices")
    return ApiError(
        413, "voice_storage_full", f"an owner's voices take at most {max_bytes} bytes together"
    )


def _boundary(request: Request) -> bytes:
    media_type, options = parse_options_header(request.headers.get("content-type"))
    if media_type != b"multipart/form-data":
        raise ApiError(415, "unsupported_content_type", "send the voice as multipart/form-data")
    boundary = options.get(b"boundary")
    if not boundary:
        raise ApiError(400, "invalid_multipart", "multipart/form-data needs a boundary")
    return bytes(boundary)


async def _discard(files: VoiceFiles, voice_id: str) -> None:
    """Remove a voice's files; shielded, so a client hanging up cannot skip it."""
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(files.delete, voice_id)


def _file_path(files: VoiceFiles, voice_id: str, field: str) -> Path:
    if field not in FILE_FIELDS:
        raise ApiError(
            422, "unknown_input", f"a voice takes the files model and index, not {field[:64]!r}"
        )
    return files.folder(voice_id) / FILE_FIELDS[field]


def _form_fields(fields: dict[str, Any]) -> VoiceForm:
    try:
        return VoiceForm.model_validate(fields)
    except ValidationError as exc:
        raise invalid_params(exc) from exc


def _check_npy(path: Path) -> None:
    with path.open("rb") as handle:
        if handle.read(len(NPY_MAGIC)) != NPY_MAGIC:
            raise ApiError(415, "unsupported_media_type", "the index must be a .npy array")
