"""The one door every job enters by: REST jobs, OpenAI facades, assistant turns, live sessions.

A submission starts as an ``Intake``: the pipeline's spec and a new job id
(made here and nowhere else), under which uploads are stored. ``submit`` then
makes the job and creates it, in this order: the scheduler's route, when not
taken before (``POST /v1/jobs`` places a submission before reading its body,
so a pipeline no live worker can run fails at once with 503
``no_capable_worker`` instead of after a long upload); the priority (the
``priority`` option beside the params: ``low``, ``normal`` or ``high``; the
facades, turns and live sessions fix it ``high``, as a client waits); the
params, validated by the pipeline's model; the conditional inputs (422
``missing_input`` when a param's value calls for a file that was not sent);
then one Redis script stores the record (with its ``webhook`` and
``webhook_events`` options, ``api/webhook_options.py``, and the digest of the
caller's key, whose secret signs the webhooks), its ``queued`` event and the Celery
``run_job`` message (``JobStore.create``), answering 429 ``queue_full`` (with
``Retry-After``) when the pipeline already has its cap of queued jobs. The
same script counts the job against its owner's quota (``jobs/quotas.py``:
every job made here is top-level; live sessions count as ``live``) and takes
a token from the caller's submissions bucket: 429 ``quota_exceeded`` or
``rate_limited`` otherwise. ``priority=high`` asked for by a caller whose
key may not (``high_priority``) is a 403 ``priority_not_allowed``; the fixed
``high`` of the facades, turns and live sessions is not asked for. An
idempotency key replays the owner's first job for a retry of the same request
and answers 409 ``idempotency_conflict`` for a different one
(``jobs/idempotency.py``). Uploaded files of a submission that fails, or that
a replay makes unneeded, are removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import redis.asyncio
from fastapi import Request
from pydantic import ValidationError

from visiovox.api.errors import ApiError, invalid_params
from visiovox.api.ratelimit import quota_exceeded, rate_limited
from visiovox.api.security import Caller
from visiovox.api.uploads import Submission, discard_job_files, receive_submission
from visiovox.api.voice_check import require_ready_voice
from visiovox.api.webhook_options import WebhookOption, take_webhook
from visiovox.config import Settings
from visiovox.jobs.idempotency import IdempotencyConflict, request_digest
from visiovox.jobs.ids import new_id
from visiovox.jobs.model import InputFile, Job, QuotaClass
from visiovox.jobs.queues import Priority, Route
from visiovox.jobs.quotas import Admission, QuotaExceeded
from visiovox.jobs.ratelimit import RateLimited
from visiovox.jobs.records import QueueFull
from visiovox.jobs.scheduler import NoCapableWorker, place
from visiovox.jobs.storage import JobFiles
from visiovox.jobs.store import JobStore
from visiovox.jobs.workers import WorkerRegistry
from visiovox.pipelines.registry import UnknownPipeline, get_spec
from visiovox.pipelines.spec import PipelineSpec

# The submission option that is not a pipeline param (no pipeline may declare it).
PRIORITY_FIELD = "priority"


@dataclass(frozen=True)
class Intake:
    """A submission under way: what its body is read against, and where it goes if known."""

    spec: PipelineSpec
    job_id: str
    route: Route | None = None


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


def _check_input_durations(spec: PipelineSpec, inputs: Sequence[InputFile]) -> None:
    """422 with the field's ``too_short_code`` when the probe timed a file under its minimum."""
    for sent in inputs:
        item = spec.input(sent.field)
        if item is None or item.min_duration_s is None or sent.duration_s is None:
            continue
        if sent.duration_s < item.min_duration_s:
            raise ApiError(
                422,
                item.too_short_code,
                f"{sent.field} lasts {sent.duration_s:.2f} s; "
                f"{spec.name} needs at least {item.min_duration_s:g} s",
            )


def new_job(
    spec: PipelineSpec,
    *,
    job_id: str,
    owner: str,
    params: dict[str, Any],
    inputs: Sequence[InputFile],
    priority: Priority | None = None,
) -> Job:
    """The job a submission asks for; ``priority`` None takes the ``priority`` option."""
    params = dict(params)
    if priority is None:
        priority = _take_priority(params)
    validated = validate_params(spec, params)
    _check_conditional_inputs(spec, validated, sent={i.field for i in inputs})
    _check_input_durations(spec, inputs)
    return Job(
        id=job_id,
        pipeline=spec.name,
        owner=owner,
        params=validated,
        inputs=list(inputs),
        priority=priority,
    )


def _check_high_priority(caller: Caller) -> None:
    """403 ``priority_not_allowed`` unless the caller's key may ask for ``priority=high``."""
    if not caller.limits.high_priority:
        raise ApiError(
            403,
            "priority_not_allowed",
            "this API key may not submit priority=high (visiovox keys update --high-priority)",
        )


def _counted(job: Job, caller: Caller, *, live: bool) -> Job:
    """``job`` marked as its owner's top-level job: which quota, the owner's running cap."""
    quota = QuotaClass.LIVE if live else QuotaClass.JOBS
    return job.model_copy(update={"quota": quota, "max_running": caller.limits.max_running})


def _with_webhook(job: Job, webhook: WebhookOption | None, caller: Caller) -> Job:
    """``job`` with where its webhooks go, which events, and whose key signs them."""
    if webhook is None:
        return job
    update = {"webhook": webhook.url, "webhook_events": webhook.events}
    return job.model_copy(update={**update, "webhook_key": caller.key_digest})


def _request_digest(job: Job) -> str:
    """What makes a retry the same request: pipeline, priority, params and file contents."""
    return request_digest(
        pipeline=job.pipeline,
        priority=job.priority.value,
        params=job.params,
        inputs={item.field: item.sha256 for item in job.inputs},
    )


class Submissions:
    """Makes, routes and creates the gateway's jobs, on the event loop's Redis client."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: JobStore,
        workers: WorkerRegistry,
        files: JobFiles,
        client: redis.asyncio.Redis,
    ) -> None:
        self._settings = settings
        self._store = store
        self._workers = workers
        self._files = files
        self._redis = client

    def intake(self, pipeline: str) -> Intake:
        """A new submission of ``pipeline`` with a new job id; 404 ``unknown_pipeline``."""
        return Intake(spec=lookup_spec(pipeline), job_id=new_id())

    async def place(self, intake: Intake) -> Intake:
        """``intake`` routed now, before its body is read; 503 when no worker can run it."""
        return replace(intake, route=await self._route(intake.spec))

    async def receive(self, request: Request, intake: Intake) -> Submission:
        """The body's params and checked files, stored under the intake's job id."""
        return await receive_submission(
            request,
            spec=intake.spec,
            job_id=intake.job_id,
            files=self._files,
            limits=self._settings.uploads,
        )

    async def submit(
        self,
        intake: Intake,
        *,
        caller: Caller,
        params: dict[str, Any],
        inputs: Sequence[InputFile] = (),
        priority: Priority | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[Job, bool]:
        """Create and enqueue the job; returns it and whether it is new (else a replay).

        ``priority`` None takes the ``priority`` option from ``params`` (default normal).
        """
        try:
            params = dict(params)
            webhook = take_webhook(params, self._settings.webhooks)
            route = intake.route or await self._route(intake.spec)
            job = new_job(
                intake.spec,
                job_id=intake.job_id,
                owner=caller.owner,
                params=params,
                inputs=inputs,
                priority=priority,
            )
            job = _with_webhook(job, webhook, caller)
            await require_ready_voice(
                self._redis,
                self._settings,
                pipeline=intake.spec.name,
                params=job.params,
                owner=caller.owner,
            )
            if priority is None and job.priority is Priority.HIGH:
                _check_high_priority(caller)
            job, created = await self._create(
                _counted(job, caller, live=intake.spec.live),
                caller=caller,
                route=replace(route, priority=job.priority),
                idempotency_key=idempotency_key,
            )
        except BaseException:
            if inputs:
                await discard_job_files(self._files, intake.job_id)
            raise
        if not created and inputs:
            # A repeated idempotency key: the first job answers, this upload is not needed.
            await discard_job_files(self._files, intake.job_id)
        return job, created

    async def _route(self, spec: PipelineSpec) -> Route:
        """The scheduler's placement from the live workers; 503 when none can run ``spec``."""
        scheduler = self._settings.scheduler
        workers = await self._workers.live_async(self._redis, max_age_s=scheduler.workers_max_age_s)
        try:
            return place(spec.needs, workers, prefix=self._settings.redis.prefix)
        except NoCapableWorker as exc:
            retry = str(scheduler.retry_after_s)
            raise ApiError(
                503, "no_capable_worker", str(exc), headers={"Retry-After": retry}
            ) from exc

    async def _create(
        self, job: Job, *, caller: Caller, route: Route, idempotency_key: str | None
    ) -> tuple[Job, bool]:
        """Store and enqueue ``job``; a repeated ``idempotency_key`` answers with the first job."""
        scheduler = self._settings.scheduler
        limits = caller.limits
        try:
            return await self._store.create(
                self._redis,
                job,
                idempotency_key=idempotency_key,
                request_digest=_request_digest(job) if idempotency_key else None,
                route=route,
                max_queued=scheduler.cap(job.pipeline),
                admission=Admission(
                    quota=job.quota or QuotaClass.JOBS,
                    max_queued=limits.max_queued,
                    max_live=limits.max_live,
                ),
                submits=limits.submits,
                identity=caller.identity,
            )
        except IdempotencyConflict as exc:
            raise ApiError(409, "idempotency_conflict", str(exc)) from exc
        except RateLimited as exc:
            raise rate_limited(exc.verdict, what="submissions") from exc
        except QuotaExceeded as exc:
            raise quota_exceeded(exc, retry_after_s=scheduler.retry_after_s) from exc
        except QueueFull as exc:
            raise ApiError(
                429,
                "queue_full",
                f"{exc}; retry later",
                headers={"Retry-After": str(scheduler.retry_after_s)},
            ) from exc
