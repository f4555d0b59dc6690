"""The interface a pipeline's ``run`` talks to: inputs, outputs, progress, cancel, engines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from visiovox.jobs.model import InputFile, OutputFile

if TYPE_CHECKING:
    # Type-only: the gateway imports pipeline specs, which import this module,
    # and must not import anything under visiovox.engines.
    from visiovox.engines.base import Engine
    from visiovox.pipelines.live_link import LiveLink

EngineT = TypeVar("EngineT", bound="Engine")


class RunContext(Protocol):
    """Given to ``run``; the worker backs it with Redis, tests with memory."""

    @property
    def job_id(self) -> str: ...

    @property
    def device(self) -> str: ...

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

    def live(self) -> LiveLink:
        """The live session this job hosts (only live pipelines call it)."""
