"""The interface a pipeline's ``run`` talks to: inputs, outputs, progress, cancel, engines.

A live pipeline also talks to its client through ``RunContext.live()``: a
``LiveLink``, which the worker backs with the session's two capped Redis
streams (``worker/live_link.py``) and the test harness with memory
(``pipelines/testing.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar

from visiovox.config import Settings
from visiovox.jobs.model import InputFile, OutputFile
from visiovox.jobs.segments import SegmentJob, SegmentRole
from visiovox.jobs.workers import LiveFigures

if TYPE_CHECKING:
    # Type-only: nothing under visiovox.engines loads with a spec.
    from visiovox.engines.base import Engine

EngineT = TypeVar("EngineT", bound="Engine")


@dataclass(frozen=True)
class LiveInput:
    """One message from the client: binary ``audio`` or a JSON ``command``."""

    audio: bytes | None = None
    command: dict[str, Any] | None = None
    # A live face swap's video frame (its bytes in ``audio``), numbered by the gateway.
    video: bool = False
    # Video frames the client sent before this message (a video frame's own 0-based seq).
    frames: int = 0
    # Client messages the input stream's cap dropped just before this one.
    lost: int = 0


class LiveLink(Protocol):
    """A live session's connection to its client, through whichever gateway holds it."""

    @property
    def dropped(self) -> int:
        """Client messages lost so far to the input stream's cap (drop-oldest)."""

    def receive(self, *, timeout_s: float) -> list[LiveInput]:
        """What arrived, oldest first; waits up to ``timeout_s`` when nothing has (0: never)."""

    def send(self, message: dict[str, Any]) -> None:
        """Send a JSON message to the client."""

    def send_audio(self, data: bytes) -> None:
        """Send a binary message to the client."""

    def remember(self, session_id: str, messages: list[dict[str, str]]) -> None:
        """Append ``messages`` to the session's history, if the session still exists."""


class SegmentWork(Protocol):
    """A job's part in a split across the fleet (``jobs/segments.py``)."""

    @property
    def role(self) -> SegmentRole:
        """Whether this attempt may split, runs one segment, or stitches the segments."""

    def split(self, children: list[SegmentJob]) -> NoReturn:
        """Create the segment jobs and end this run waiting for them (``SegmentsPlanned``)."""

    def fleet_size(self) -> int:
        """Live workers that can take the segments (at least 1), for sizing them."""

    def report(self, frames_done: int) -> None:
        """A segment's frames done so far, for its parent's progress bar (throttled)."""

    def share(self, name: str, path: Path) -> None:
        """Keep the file ``path`` (written under ``output_path(name)``) for the segments to
        read; it is no output of the job."""

    def shared(self, name: str) -> Path:
        """A segment's local copy of the file its parent shared as ``name``."""

    def child_output(self, child_id: str, name: str) -> Path:
        """A local file holding the output ``name`` of segment job ``child_id``."""

    def child_result(self, child_id: str) -> dict[str, Any]:
        """The result segment job ``child_id`` returned."""

    def discard_children(self) -> None:
        """Remove the segment jobs' files (once their outputs are joined)."""


class RunContext(Protocol):
    """Given to ``run``; the worker backs it with Redis, tests with memory."""

    @property
    def job_id(self) -> str: ...

    @property
    def device(self) -> str: ...

    @property
    def settings(self) -> Settings:
        """The deployment's settings: a pipeline's defaults and limits come from here."""

    def input(self, field: str) -> InputFile | None:
        """The uploaded file of ``field``, if one was sent."""

    def input_path(self, field: str) -> Path:
        """Where the upload of ``field`` lies on disk."""

    def output_path(self, name: str) -> Path:
        """Where to write the output ``name`` (its folder exists)."""

    def add_output(self, name: str, content_type: str) -> OutputFile:
        """Publish a written output; emits an ``output`` event."""

    def progress(
        self, percent: float, *, stage: str | None = None, message: str | None = None
    ) -> None:
        """Report progress (throttled; 0–100)."""

    def stage(self, name: str) -> None:
        """Announce the start of a named stage."""

    def log(self, message: str) -> None:
        """Append a human-readable log event."""

    def token(self, text: str) -> None:
        """Stream a piece of generated text: a ``log`` event whose data is ``{"token": text}``."""

    def check_cancelled(self) -> None:
        """Raise ``JobCanceled`` if the job was canceled; call between units of work.

        A worker also fails the job here (``PipelineError("resource_exhausted")``)
        once its process is over its memory ceiling.
        """

    def engine(self, name: str, engine_type: type[EngineT]) -> EngineT:
        """The loaded engine ``name`` from the process's pool, checked to be ``engine_type``."""

    def segments(self) -> SegmentWork | None:
        """The job's part in a split across the fleet; None where jobs are never split."""

    def live(self) -> LiveLink:
        """The live session this job hosts (only live pipelines call it)."""

    def live_figures(self, figures: LiveFigures) -> None:
        """The hosted live session's running totals, shown by ``/v1/workers`` and ``/metrics``."""
