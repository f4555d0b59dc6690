"""Following a job to its end on its SSE stream, with a progress bar on stderr.

The stream is resumed from the last event id when it breaks (a gateway
restart, a Redis blip: the API's ``event: error`` frame); ``timeout_s``
bounds the whole wait (``CliFailure`` with exit 5).
"""

from __future__ import annotations

import time
from typing import Any

import requests
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from visiovox.cli_jobs.client import READ_TIMEOUT_S, ApiClient
from visiovox.cli_jobs.outcome import CliFailure, Exit
from visiovox.cli_jobs.sse import ServerEvent

TERMINAL = frozenset({"succeeded", "failed", "canceled"})
# Error frames in a row before giving up, and the pause before each reconnection.
MAX_STREAM_ERRORS = 5
RECONNECT_PAUSE_S = 1.0


class _Deadline:
    """When ``--timeout`` runs out (None: never)."""

    def __init__(self, timeout_s: float | None) -> None:
        self._at = None if timeout_s is None else time.monotonic() + timeout_s

    def read_s(self) -> float:
        """How long the next read may wait; raises once the time is up."""
        if self._at is None:
            return READ_TIMEOUT_S
        left = self._at - time.monotonic()
        if left <= 0:
            raise CliFailure(Exit.TIMED_OUT, "timed_out", "the job did not end in time")
        return min(left, READ_TIMEOUT_S)


class _Bar:
    """The job's percent and stage as a rich progress bar; each event as a line if asked."""

    def __init__(self, progress: Progress, job_id: str, *, log_events: bool) -> None:
        self._progress = progress
        self._log_events = log_events
        self._task: TaskID = progress.add_task(job_id, total=100.0, stage="queued")

    def show(self, event: ServerEvent) -> None:
        data = event.data.get("data", {})
        if event.type == "progress":
            stage = data.get("stage") or data.get("message") or "running"
            self._progress.update(self._task, completed=float(data.get("percent", 0)), stage=stage)
        elif event.type in ("started", "stage"):
            self._progress.update(self._task, stage=data.get("stage") or event.type)
        elif event.type in TERMINAL:
            done = 100.0 if event.type == "succeeded" else None
            self._progress.update(self._task, completed=done, stage=event.type)
        if self._log_events:
            self._progress.console.print(f"{event.type} {_summary(data)}".rstrip())


def _summary(data: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in data.items() if value not in (None, ""))


def follow(
    client: ApiClient, job_id: str, *, timeout_s: float | None, log_events: bool = False
) -> dict[str, Any]:
    """Wait for the job's terminal event; return its final record."""
    deadline = _Deadline(timeout_s)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[stage]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        bar = _Bar(progress, job_id, log_events=log_events)
        after: str | None = None
        errors = 0
        while True:
            try:
                for event in client.events(job_id, after=after, read_s=deadline.read_s()):
                    deadline.read_s()
                    if event.type == "error":
                        errors = _stream_error(event, errors)
                        break
                    if event.id is None:
                        continue
                    after, errors = event.id, 0
                    bar.show(event)
                    if event.type in TERMINAL:
                        return client.job(job_id)
            except requests.RequestException:
                deadline.read_s()
            time.sleep(RECONNECT_PAUSE_S)


def _stream_error(event: ServerEvent, errors: int) -> int:
    """Count an error frame; past ``MAX_STREAM_ERRORS`` in a row it is the command's error."""
    if errors + 1 >= MAX_STREAM_ERRORS:
        error = event.data.get("error", {})
        code, message = error.get("code", "stream_error"), error.get("message", "")
        raise CliFailure(Exit.UNREACHABLE, code, message)
    return errors + 1
