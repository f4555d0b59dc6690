"""Values the job store hands out, and the codec of a job hash (JSON per field)."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from visiovox.jobs.keys import as_text
from visiovox.jobs.model import Job


class ClaimOutcome(enum.StrEnum):
    """What a worker's claim of a job found."""

    CLAIMED = "claimed"
    MISSING = "missing"
    TERMINAL = "terminal"
    LEASED = "leased"
    CANCELED = "canceled"
    EXHAUSTED = "exhausted"
    # Its owner runs its cap of jobs: it stays queued until one ends (``jobs/quotas.py``).
    HELD = "held"


@dataclass(frozen=True)
class Claim:
    """The outcome of ``JobStore.claim`` and the attempt number it started."""

    outcome: ClaimOutcome
    attempt: int


class QueueFull(Exception):
    """The pipeline already has its cap of queued jobs; nothing was created."""

    def __init__(self, pipeline: str, *, depth: int, cap: int) -> None:
        super().__init__(f"pipeline {pipeline!r} has {depth} queued jobs (cap {cap})")
        self.pipeline = pipeline
        self.depth = depth
        self.cap = cap


@dataclass(frozen=True)
class JobPage:
    """One page of a caller's jobs, newest first."""

    jobs: list[Job]
    next_cursor: str | None


def encode_fields(values: Mapping[str, Any]) -> dict[str, str]:
    """Job fields as the JSON strings stored in the hash."""
    return {name: json.dumps(value) for name, value in values.items()}


def decode_job(raw: Mapping[Any, Any]) -> Job:
    """A job hash as a ``Job``."""
    return Job.model_validate({as_text(k): json.loads(as_text(v)) for k, v in raw.items()})
