"""Jobs, their statuses and their events as plain typed values."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from visiovox.jobs.queues import Priority


class JobStatus(enum.StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED})


class QuotaClass(enum.StrEnum):
    """Which of its owner's quotas a top-level job counts against (``jobs/quotas.py``)."""

    JOBS = "jobs"
    LIVE = "live"


class EventType(enum.StrEnum):
    """What an event in a job's stream says."""

    QUEUED = "queued"
    STARTED = "started"
    PROGRESS = "progress"
    STAGE = "stage"
    LOG = "log"
    OUTPUT = "output"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in (EventType.SUCCEEDED, EventType.FAILED, EventType.CANCELED)


class Progress(BaseModel):
    """The latest progress a job reported."""

    percent: float = 0.0
    stage: str | None = None
    message: str | None = None


class JobError(BaseModel):
    """Why a job failed: a stable code and a human message."""

    code: str
    message: str


class InputFile(BaseModel):
    """An uploaded file stored under the job's ``in/`` folder."""

    field: str
    name: str
    content_type: str
    size: int
    filename: str | None = None
    sha256: str | None = None
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None


class OutputFile(BaseModel):
    """A file the job produced under its ``out/`` folder."""

    name: str
    content_type: str
    size: int


class Job(BaseModel):
    """The job record: the source of truth for a job's state."""

    id: str
    pipeline: str
    owner: str
    status: JobStatus = JobStatus.QUEUED
    created_at: float = Field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    progress: Progress = Field(default_factory=Progress)
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: list[InputFile] = Field(default_factory=list)
    outputs: list[OutputFile] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    error: JobError | None = None
    attempts: int = 0
    worker: str | None = None
    # Where the scheduler sent it: the queue (shared or a worker's private one),
    # the device class it runs on, and its priority (kept for re-dispatches).
    queue: str | None = None
    device_class: str | None = None
    priority: Priority = Priority.NORMAL
    cancel_requested: bool = False
    # The owner's quota it counts against (None: it never counts, as a child job) and the
    # owner's cap of running jobs when it was created (0: none), checked at each claim.
    quota: QuotaClass | None = None
    max_running: int = 0
    # Where its webhooks go (the whole URL: clients see it without its query string),
    # the events it asked for (``jobs/webhook_outbox.py``; none: no webhook) and the
    # digest of the API key whose secret signs them (None: the deployment's secret).
    webhook: str | None = None
    webhook_events: list[str] = Field(default_factory=list)
    webhook_key: str | None = None
    # A segmented job (``jobs/segments.py``): a child names its parent and its segment's
    # plan; a parent lists its children once split and its phase (None: not split yet,
    # "segments": waiting for them, "stitch": joining their outputs).
    parent_id: str | None = None
    segment: dict[str, Any] | None = None
    segments: list[str] = Field(default_factory=list)
    phase: str | None = None


@dataclass(frozen=True)
class JobEvent:
    """One entry of a job's event stream; ``id`` is the Redis stream id."""

    id: str
    type: EventType
    data: dict[str, Any] = field(default_factory=dict)
    ts: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type.value, "data": self.data, "ts": self.ts}
