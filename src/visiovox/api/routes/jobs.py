"""Submitting, reading, listing and canceling jobs.

The scheduler places a submission before its body is read (``jobs/scheduler.py``),
so a pipeline no live worker can run fails at once with 503
``no_capable_worker`` instead of after a long upload. The submission is then
checked completely (params, files, media) before the job record exists; the
record, its ``queued`` event and the Celery ``run_job`` message (carrying only
the job id) then land in one Redis script, on the event loop's client, which
answers 429 ``queue_full`` (with ``Retry-After``) when the pipeline already has
its cap of queued jobs. ``priority`` (``low``, ``normal``, ``high``) is a
submission option beside the pipeline's params. An ``Idempotency-Key`` replays
the owner's first job for a retry of the same request and answers 409
``idempotency_conflict`` for a different one (``jobs/idempotency.py``).
Canceling a job that already finished answers 409 ``job_finished``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError

from visiovox.api.deps import Gateway, GatewayDep
from visiovox.api.errors import ApiError, invalid_params
from visiovox.api.schemas import ErrorBody, JobList, JobOut
from visiovox.api.security import CallerDep
from visiovox.api.uploads import Submission, discard_job_files, receive_submission
from visiovox.jobs.idempotency import IdempotencyConflict, request_digest
from visiovox.jobs.model import Job, JobStatus
from visiovox.jobs.queues import Priority, Route
from visiovox.jobs.reader import JobReader
from visiovox.jobs.records import QueueFull
from visiovox.jobs.scheduler import NoCapableWorker, place
from visiovox.pipelines.registry import UnknownPipeline, get_spec
from visiovox.pipelines.spec import PipelineSpec

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

# Keys become part of a Redis key name; a UUID or a request hash fits easily.
MAX_IDEMPOTENCY_KEY = 255
# The submission option that is not a pipeline param (no pipeline may declare it).
PRIORITY_FIELD = "priority"

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 409, 413, 415, 422, 429, 503)
}


def job_response(
    job: Job, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The job as JSON, serialized once (skipping FastAPI's re-validation of the model)."""
    body = JobOut.from_job(job).model_dump_json()
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


def job_not_found(job_id: str) -> ApiError:
    return ApiError(404, "job_not_found", f"no job {job_id!r}")


def lookup_spec(pipeline: str) -> PipelineSpec:
    try:
        return get_spec(pipeline)
    except UnknownPipeline:
        raise ApiError(404, "unknown_pipeline", f"no pipeline named {pipeline!r}") from None


def validate_params(spec: PipelineSpec, raw: dict[str, Any]) -> dict[str, Any]:
    known: set[str] = set()
    for name, info in spec.params.model_fields.items():
        known.update({name, info.alias or name})
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ApiError(
            422,
            "invalid_params",
            f"{spec.name} has no param(s) {', '.join(unknown)} "
            f"(params: {', '.join(sorted(known)) or 'none'})",
        )
    try:
        return spec.params.model_validate(raw).model_dump(mode="json")
    except ValidationError as exc:
        raise invalid_params(exc) from exc


def _take_priority(params: dict[str, Any]) -> Priority:
    raw = params.pop(PRIORITY_FIELD, Priority.NORMAL.value)
    try:
        return Priority(str(raw).strip().lower())
    except ValueError:
        choices = ", ".join(p.value for p in Priority)
        raise ApiError(
            422, "invalid_params", f"priority: must be one of {choices}, not {raw!r}"
        ) from None


async def route_job(gateway: Gateway, spec: PipelineSpec) -> Route:
    """The scheduler's placement from the live workers; 503 when none can run ``spec``."""
    max_age_s = gateway.settings.scheduler.workers_max_age_s
    workers = await gateway.workers.live_async(gateway.aredis, max_age_s=max_age_s)
    try:
        return place(spec.needs, workers)
    except NoCapableWorker as exc:
        retry = str(gateway.settings.scheduler.retry_after_s)
        raise ApiError(503, "no_capable_worker", str(exc), headers={"Retry-After": retry}) from exc


async def create_job(
    gateway: Gateway,
    *,
    job: Job,
    route: Route,
    idempotency_key: str | None,
) -> tuple[Job, bool]:
    """Store and enqueue ``job``; a repeated ``idempotency_key`` answers with the first job."""
    scheduler = gateway.settings.scheduler
    try:
        return await gateway.domain.store.create(
            gateway.aredis,
            job,
            idempotency_key=idempotency_key,
            request_digest=_request_digest(job) if idempotency_key else None,
            route=route,
            max_queued=scheduler.cap(job.pipeline),
        )
    except IdempotencyConflict as exc:
        raise ApiError(409, "idempotency_conflict", str(exc)) from exc
    except QueueFull as exc:
        raise ApiError(
            429,
            "queue_full",
            f"{exc}; retry later",
            headers={"Retry-After": str(scheduler.retry_after_s)},
        ) from exc


def _request_digest(job: Job) -> str:
    """What makes a retry the same request: pipeline, priority, params and file contents."""
    return request_digest(
        pipeline=job.pipeline,
        priority=job.priority.value,
        params=job.params,
        inputs={item.field: item.sha256 for item in job.inputs},
    )


def new_job(spec: PipelineSpec, *, job_id: str, owner: str, submission: Submission) -> Job:
    params = dict(submission.params)
    priority = _take_priority(params)
    validated = validate_params(spec, params)
    _check_conditional_inputs(spec, validated, sent={i.field for i in submission.inputs})
    return Job(
        id=job_id,
        pipeline=spec.name,
        owner=owner,
        params=validated,
        inputs=submission.inputs,
        priority=priority,
    )


def _check_conditional_inputs(
    spec: PipelineSpec, params: dict[str, Any], *, sent: set[str]
) -> None:
    """422 ``missing_input`` when a param's value calls for a file field that was not sent."""
    for item in spec.inputs:
        if item.required_when is None or item.field in sent:
            continue
        name, value = item.required_when
        if params.get(name) != value:
            continue
        condition = f"{name} is {value}" if value is not None else f"there is no {name}"
        raise ApiError(
            422, "missing_input", f"{spec.name} needs the file field {item.field} when {condition}"
        )


@router.post("/{pipeline}", status_code=202, response_model=JobOut, responses=_ERRORS)
async def submit_job(
    pipeline: str, request: Request, caller: CallerDep, gateway: GatewayDep
) -> Response:
    """Submit a job: multipart (files + params), urlencoded or JSON params. Answers 202."""
    spec = lookup_spec(pipeline)
    if spec.live:
        raise ApiError(400, "live_pipeline", f"{pipeline!r} sessions open over WS /v1/live/…")
    idempotency_key = request.headers.get("idempotency-key") or None
    if idempotency_key is not None and len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise ApiError(
            400, "invalid_idempotency_key", f"Idempotency-Key is over {MAX_IDEMPOTENCY_KEY} chars"
        )
    route = await route_job(gateway, spec)
    job_id = uuid.uuid4().hex
    files = gateway.domain.files
    submission = await receive_submission(
        request, spec=spec, job_id=job_id, files=files, limits=gateway.settings.uploads
    )
    try:
        job = new_job(spec, job_id=job_id, owner=caller.owner, submission=submission)
        # The record, its queued event and the run_job message land in one script.
        job, created = await create_job(
            gateway,
            job=job,
            route=replace(route, priority=job.priority),
            idempotency_key=idempotency_key,
        )
    except BaseException:
        if submission.inputs:
            await discard_job_files(files, job_id)
        raise
    headers = {"Location": f"/v1/jobs/{job.id}"}
    if not created:
        # A repeated Idempotency-Key: the first job answers, this upload is not needed.
        headers["Idempotent-Replayed"] = "true"
        if submission.inputs:
            await discard_job_files(files, job_id)
    return job_response(job, status_code=202, headers=headers)


async def _get_job(gateway: Gateway, job_id: str, owner: str) -> Job:
    job = await JobReader(gateway.aredis, keys=gateway.domain.keys).get_for_owner(job_id, owner)
    if job is None:
        raise job_not_found(job_id)
    return job


@router.get("/{job_id}", response_model=JobOut, responses=_ERRORS)
async def get_job(job_id: str, caller: CallerDep, gateway: GatewayDep) -> Response:
    """One of the caller's jobs (another owner's job is 404, never 403)."""
    reader = JobReader(gateway.aredis, keys=gateway.domain.keys)
    job = await reader.get_for_owner(job_id, caller.owner)
    if job is None:
        raise job_not_found(job_id)
    return job_response(job)


def _check_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        float(cursor)
    except ValueError:
        raise ApiError(400, "invalid_cursor", f"{cursor!r} is not a cursor from this API") from None
    return cursor


@router.get("", response_model=JobList, responses=_ERRORS)
async def list_jobs(
    caller: CallerDep,
    gateway: GatewayDep,
    status: JobStatus | None = None,
    pipeline: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> JobList:
    """The caller's jobs, newest first; pass ``next_cursor`` back as ``cursor`` for more."""
    page = await JobReader(gateway.aredis, keys=gateway.domain.keys).list_for_owner(
        caller.owner, status=status, pipeline=pipeline, limit=limit, cursor=_check_cursor(cursor)
    )
    return JobList(data=[JobOut.from_job(j) for j in page.jobs], next_cursor=page.next_cursor)


@router.delete("/{job_id}", status_code=202, response_model=JobOut, responses=_ERRORS)
async def cancel_job(job_id: str, caller: CallerDep, gateway: GatewayDep) -> Response:
    """Cancel: a queued job at once, a running one within about a second. 409 if finished."""
    job = await _get_job(gateway, job_id, caller.owner)
    # request_cancel answers a terminal job with its status, "canceled" included, so
    # the job's own status tells "already finished" apart from "canceled just now".
    outcome = job.status.value if job.status.is_terminal else None
    outcome = outcome or await anyio.to_thread.run_sync(gateway.domain.store.request_cancel, job.id)
    if outcome == "missing":
        raise job_not_found(job_id)
    if job.status.is_terminal or outcome not in ("canceled", "cancel_requested"):
        raise ApiError(409, "job_finished", f"job {job_id!r} already finished ({outcome})")
    return job_response(await _get_job(gateway, job_id, caller.owner), status_code=202)
