"""Submitting, reading, listing and canceling jobs.

A submission goes through the one door (``api/submission.py``): placed by the
scheduler before its body is read, checked completely (params, files, media)
before the job record exists, then stored and enqueued in one Redis script.
``priority`` (``low``, ``normal``, ``high``) is a submission option beside the
pipeline's params. An ``Idempotency-Key`` replays the owner's first job for a
retry of the same request (``Idempotent-Replayed: true``) and answers 409
``idempotency_conflict`` for a different one. Canceling a job that already
finished answers 409 ``job_finished``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request, Response

from visiovox.api.deps import CallerDep, ReaderDep, StoreDep, SubmitDep
from visiovox.api.errors import ApiError, job_not_found
from visiovox.api.ids import JobIdDep
from visiovox.api.schemas import ErrorBody, JobList, JobOut, job_response
from visiovox.jobs.model import Job, JobStatus
from visiovox.jobs.reader import JobReader

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

# Keys become part of a Redis key name; a UUID or a request hash fits easily.
MAX_IDEMPOTENCY_KEY = 255
# A cursor is the ``repr`` of a job's creation time: a plain non-negative decimal.
_CURSOR = re.compile(r"[0-9]{1,17}(?:\.[0-9]{1,17})?")


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """What these handlers raise; api/openapi.py adds what the shared layers answer."""
    return {code: {"model": ErrorBody} for code in codes}


# 403 priority_not_allowed, 503 no_capable_worker, 507 insufficient_storage.
_SUBMIT_ERRORS = _errors(400, 403, 404, 409, 413, 415, 422, 503, 507)


@router.post("/{pipeline}", status_code=202, response_model=JobOut, responses=_SUBMIT_ERRORS)
async def submit_job(
    pipeline: str, request: Request, caller: CallerDep, submissions: SubmitDep
) -> Response:
    """Submit a job: multipart (files + params), urlencoded or JSON params. Answers 202."""
    intake = submissions.intake(pipeline)
    if intake.spec.live:
        raise ApiError(400, "live_pipeline", f"{pipeline!r} sessions open over WS /v1/live/…")
    idempotency_key = request.headers.get("idempotency-key") or None
    if idempotency_key is not None and len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise ApiError(
            400, "invalid_idempotency_key", f"Idempotency-Key is over {MAX_IDEMPOTENCY_KEY} chars"
        )
    intake = await submissions.place(intake)
    received = await submissions.receive(request, intake)
    job, created = await submissions.submit(
        intake,
        caller=caller,
        params=received.params,
        inputs=received.inputs,
        idempotency_key=idempotency_key,
    )
    headers = {"Location": f"/v1/jobs/{job.id}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return job_response(job, status_code=202, headers=headers)


async def _get_job(reader: JobReader, job_id: str, owner: str) -> Job:
    job = await reader.get_for_owner(job_id, owner)
    if job is None:
        raise job_not_found(job_id)
    return job


@router.get("/{job_id}", response_model=JobOut, responses=_errors(404))
async def get_job(job_id: JobIdDep, caller: CallerDep, reader: ReaderDep) -> Response:
    """One of the caller's jobs (another owner's job is 404, never 403)."""
    return job_response(await _get_job(reader, job_id, caller.owner))


def _check_cursor(cursor: str | None) -> str | None:
    """A ``next_cursor`` this API gave (a creation time in seconds); 422 ``invalid_cursor``.

    Checked by format, not by ``float()``, which takes ``nan``, ``inf`` and
    ``1_0``: Redis would refuse them as score bounds.
    """
    if cursor is None or _CURSOR.fullmatch(cursor):
        return cursor
    raise ApiError(422, "invalid_cursor", f"{cursor[:64]!r} is not a cursor from this API")


@router.get("", response_model=JobList, responses=_errors(422))
async def list_jobs(
    caller: CallerDep,
    reader: ReaderDep,
    status: JobStatus | None = None,
    pipeline: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> JobList:
    """The caller's jobs, newest first; pass ``next_cursor`` back as ``cursor`` for more."""
    page = await reader.list_for_owner(
        caller.owner, status=status, pipeline=pipeline, limit=limit, cursor=_check_cursor(cursor)
    )
    return JobList(data=[JobOut.from_job(j) for j in page.jobs], next_cursor=page.next_cursor)


@router.delete("/{job_id}", status_code=202, response_model=JobOut, responses=_errors(404, 409))
async def cancel_job(
    job_id: JobIdDep, caller: CallerDep, reader: ReaderDep, store: StoreDep
) -> Response:
    """Cancel: a queued job at once, a running one within about a second. 409 if finished."""
    job = await _get_job(reader, job_id, caller.owner)
    # request_cancel answers a terminal job with its status, "canceled" included, so
    # the job's own status tells "already finished" apart from "canceled just now".
    outcome = job.status.value if job.status.is_terminal else None
    outcome = outcome or await anyio.to_thread.run_sync(store.request_cancel, job.id)
    if outcome == "missing":
        raise job_not_found(job_id)
    if job.status.is_terminal or outcome not in ("canceled", "cancel_requested"):
        raise ApiError(409, "job_finished", f"job {job_id!r} already finished ({outcome})")
    return job_response(await _get_job(reader, job_id, caller.owner), status_code=202)
