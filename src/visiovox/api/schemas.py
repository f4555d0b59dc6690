"""The gateway's response bodies. Every timestamp is an ISO-8601 UTC string (``...Z``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import Response
from pydantic import BaseModel

from visiovox.jobs.model import Job, JobEvent, JobStatus
from visiovox.jobs.queues import Priority
from visiovox.jobs.workers import LiveFigures, WorkerInfo, WorkerState
from visiovox.models.catalog import ModelRow
from visiovox.pipelines.spec import PipelineSpec
from visiovox.webhooks.target import public_url


def iso(ts: float | None) -> str | None:
    """A unix time as ISO-8601 UTC with microseconds, or None."""
    if ts is None:
        return None
    return (
        datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    )


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx answer."""

    error: ErrorDetail


class ProgressOut(BaseModel):
    percent: float
    stage: str | None
    message: str | None


class InputOut(BaseModel):
    field: str
    content_type: str
    size: int
    filename: str | None
    sha256: str | None = None
    duration_s: float | None
    width: int | None
    height: int | None


class OutputOut(BaseModel):
    name: str
    content_type: str
    size: int
    url: str


class JobOut(BaseModel):
    """A job as clients see it."""

    id: str
    pipeline: str
    status: JobStatus
    priority: Priority
    created_at: str
    started_at: str | None
    finished_at: str | None
    progress: ProgressOut
    params: dict[str, Any]
    inputs: list[InputOut]
    outputs: list[OutputOut]
    result: dict[str, Any] | None
    error: ErrorDetail | None
    attempts: int
    worker: str | None
    # Without its query string, which may hold a token.
    webhook: str | None = None
    webhook_events: list[str] = []

    @classmethod
    def from_job(cls, job: Job, *, base_url: str = "") -> JobOut:
        """``job`` for clients; ``base_url`` makes its output URLs absolute (webhook bodies)."""
        return cls(
            id=job.id,
            pipeline=job.pipeline,
            status=job.status,
            priority=job.priority,
            created_at=iso(job.created_at) or "",
            started_at=iso(job.started_at),
            finished_at=iso(job.finished_at),
            progress=ProgressOut(**job.progress.model_dump()),
            params=job.params,
            inputs=[InputOut(**i.model_dump(exclude={"name"})) for i in job.inputs],
            outputs=[
                OutputOut(**o.model_dump(), url=f"{base_url}/v1/jobs/{job.id}/files/{o.name}")
                for o in job.outputs
            ],
            result=job.result,
            error=ErrorDetail(**job.error.model_dump()) if job.error else None,
            attempts=job.attempts,
            worker=job.worker,
            webhook=public_url(job.webhook) if job.webhook else None,
            webhook_events=job.webhook_events if job.webhook else [],
        )


def job_response(
    job: Job, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The job as JSON, serialized once (skipping FastAPI's re-validation of the model)."""
    body = JobOut.from_job(job).model_dump_json()
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


class WebhookAttemptOut(BaseModel):
    """One try of a delivery: the receiver's status (None: no answer) or the error."""

    at: str
    status_code: int | None
    error: str | None
    duration_ms: float


class WebhookDeliveryOut(BaseModel):
    """One webhook delivery: its ``webhook-id``, event, status and attempts."""

    id: str
    event: str
    status: str
    attempts: int
    created_at: str
    next_attempt_at: str | None
    attempt_log: list[WebhookAttemptOut]


class WebhookDeliveryList(BaseModel):
    """A job's webhook deliveries, oldest first."""

    webhook: str | None
    webhook_events: list[str]
    data: list[WebhookDeliveryOut]


class JobList(BaseModel):
    """One page of the caller's jobs, newest first."""

    data: list[JobOut]
    next_cursor: str | None


class EventOut(BaseModel):
    """One job event, as sent over SSE and WebSocket."""

    id: str
    type: str
    data: dict[str, Any]
    ts: str | None

    @classmethod
    def from_event(cls, event: JobEvent) -> EventOut:
        return cls(id=event.id, type=event.type.value, data=event.data, ts=iso(event.ts))


class WorkerOut(BaseModel):
    """A live worker, as its last heartbeat described it."""

    name: str
    host: str
    pid: int
    device: str
    device_name: str
    memory_total_bytes: int | None
    memory_free_bytes: int | None
    state: WorkerState
    queues: list[str]
    engines: list[dict[str, Any]]
    engine_memory: dict[str, Any]
    current_job: str | None
    # The live session current_job hosts: its frames and latency so far (none for other jobs).
    live_session: LiveFigures | None
    jobs_done: int
    metrics_port: int | None
    started_at: str | None
    last_seen: str | None

    @classmethod
    def from_info(cls, info: WorkerInfo) -> WorkerOut:
        fields = info.model_dump(exclude={"started_at", "last_seen"})
        return cls(**fields, started_at=iso(info.started_at), last_seen=iso(info.last_seen))


class WorkerList(BaseModel):
    data: list[WorkerOut]


class ModelOut(BaseModel):
    """A manifest model in OpenAI's model shape, with VisioVox's fields after the standard ones."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    task: str
    engine: str
    size: int
    license: str
    non_commercial: bool
    installed: bool
    sources: list[str]
    description: str

    @classmethod
    def from_row(cls, row: ModelRow, *, created: int) -> ModelOut:
        fields = asdict(row)
        fields["sources"] = list(row.sources)
        return cls(**fields, created=created)


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class InputSpecOut(BaseModel):
    field: str
    kinds: list[str]
    required: bool
    description: str
    # {param: value}: the field is required when that param has that value.
    required_when: dict[str, str | None] | None = None


class PipelineOut(BaseModel):
    """What a pipeline accepts: its params as JSON Schema and its file inputs."""

    name: str
    summary: str
    params_schema: dict[str, Any]
    inputs: list[InputSpecOut]
    devices: list[str]

    @classmethod
    def from_spec(cls, spec: PipelineSpec) -> PipelineOut:
        return cls(
            name=spec.name,
            summary=spec.summary,
            params_schema=spec.params.model_json_schema(),
            inputs=[
                InputSpecOut(
                    field=i.field,
                    kinds=sorted(k.value for k in i.kinds),
                    required=i.required,
                    description=i.description,
                    required_when=dict([i.required_when]) if i.required_when else None,
                )
                for i in spec.inputs
            ],
            devices=sorted(spec.devices),
        )


class PipelineList(BaseModel):
    data: list[PipelineOut]
