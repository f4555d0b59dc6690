"""The worker's ``RunContext``: progress and outputs go to Redis, cancel is polled from it.

Pipelines read and write local paths in the job's ``JobWorkspace``; an output is
put into the storage backend when the pipeline adds it, before its ``output`` event.

``check_cancelled`` also enforces the worker's memory ceiling (``worker/memory.py``):
it is where every pipeline pauses between units of work.
"""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from visiovox.config import Settings
from visiovox.engines.base import Engine
from visiovox.engines.pool import EnginePool
from visiovox.errors import JobCanceled
from visiovox.jobs.model import EventType, InputFile, Job, OutputFile, Progress
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.storage import JobWorkspace
from visiovox.jobs.workers import LiveFigures
from visiovox.models.catalog import human_size
from visiovox.models.transfer import TransferProgress
from visiovox.pipelines.context import SegmentWork
from visiovox.worker.live_link import LiveLinkFactory, RedisLiveLink
from visiovox.worker.memory import MemoryCeiling
from visiovox.worker.redis_outage import OUTAGE_ERRORS

EngineT = TypeVar("EngineT", bound=Engine)


class JobContext:
    """Runs one job attempt: throttled progress, outputs, cancel checks, engines."""

    def __init__(
        self,
        *,
        job: Job,
        workspace: JobWorkspace,
        settings: Settings,
        domain: JobDomain,
        pool: EnginePool,
        device: str,
        progress_max_hz: float,
        cancel_poll_s: float,
        live_links: LiveLinkFactory | None = None,
        on_live_figures: Callable[[LiveFigures], None] | None = None,
        memory: MemoryCeiling | None = None,
        segment_work: SegmentWork | None = None,
    ) -> None:
        self._job = job
        self._segment_work = segment_work
        self._workspace = workspace
        self._on_live_figures = on_live_figures
        self._settings = settings
        self._memory = memory
        self._live_links = live_links
        self._live: RedisLiveLink | None = None
        self._domain = domain
        self._pool = pool
        self._device = device
        self._progress_interval_s = 1.0 / progress_max_hz if progress_max_hz > 0 else 0.0
        self._cancel_poll_s = cancel_poll_s
        self._last_progress_at = 0.0
        self._last_cancel_check_at = 0.0
        self._stage: str | None = None
        self._stage_started = 0.0
        self._stage_times: list[tuple[str, float]] = []
        self._outputs: dict[str, OutputFile] = {}
        self._inputs = {item.field: item for item in job.inputs}
        self._held_engines: list[str] = []

    @property
    def job_id(self) -> str:
        return self._job.id

    @property
    def device(self) -> str:
        return self._device

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def outputs(self) -> list[OutputFile]:
        return list(self._outputs.values())

    def input(self, field: str) -> InputFile | None:
        return self._inputs.get(field)

    def input_path(self, field: str) -> Path:
        item = self._inputs.get(field)
        if item is None:
            raise KeyError(f"job {self._job.id} has no input {field!r}")
        if self._job.parent_id is not None:
            return self._parent_input(item.name)
        return self._workspace.input_path(item.name)

    def _parent_input(self, name: str) -> Path:
        """A segment job's input: its parent's upload (``jobs/segments.py``), read in place
        on the local folder, else fetched into this attempt's workspace once."""
        parent_id = self._job.parent_id
        assert parent_id is not None
        files = self._domain.files
        stored = files.local_input_path(parent_id, name)
        if stored is not None:
            return stored
        path = self._workspace.folder / "in" / name
        if not path.exists():
            files.fetch_input(parent_id, name, path)
        return path

    def output_path(self, name: str) -> Path:
        return self._workspace.output_path(name)

    def add_output(self, name: str, content_type: str | None = None) -> OutputFile:
        path = self.output_path(name)
        guessed = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        output = OutputFile(name=name, content_type=guessed, size=path.stat().st_size)
        self._workspace.publish(name)
        self._outputs[name] = output
        self._domain.events.append(self._job.id, EventType.OUTPUT, output.model_dump(mode="json"))
        return output

    def progress(
        self, percent: float, *, stage: str | None = None, message: str | None = None
    ) -> None:
        now = time.monotonic()
        if now - self._last_progress_at < self._progress_interval_s:
            return
        self._last_progress_at = now
        current = Progress(
            percent=round(max(0.0, min(100.0, percent)), 2),
            stage=stage or self._stage,
            message=message,
        )
        try:
            self._domain.store.set_progress(self._job.id, current)
            self._domain.events.append(
                self._job.id, EventType.PROGRESS, current.model_dump(mode="json")
            )
        except OUTAGE_ERRORS:
            pass  # advisory, and the next report carries the latest value: Redis may restart

    def stage(self, name: str) -> None:
        self._close_stage()
        self._stage = name
        self._stage_started = time.perf_counter()
        self._domain.events.append(self._job.id, EventType.STAGE, {"stage": name})

    def _close_stage(self) -> None:
        if self._stage is not None and self._stage_started:
            self._stage_times.append((self._stage, time.perf_counter() - self._stage_started))
            self._stage_started = 0.0

    def stage_times(self) -> list[tuple[str, float]]:
        """Seconds spent in each stage the pipeline declared, ending the current one."""
        self._close_stage()
        return list(self._stage_times)

    def log(self, message: str) -> None:
        self._domain.events.append(self._job.id, EventType.LOG, {"message": message})

    def token(self, text: str) -> None:
        self._domain.events.append(self._job.id, EventType.LOG, {"token": text})

    def check_cancelled(self) -> None:
        if self._memory is not None:
            self._memory.check()  # a read of /proc/self/statm: cheap enough for every call
        now = time.monotonic()
        if now - self._last_cancel_check_at < self._cancel_poll_s:
            return
        self._last_cancel_check_at = now
        try:
            requested = self._domain.store.is_cancel_requested(self._job.id)
        except OUTAGE_ERRORS:
            return  # Redis away (a restart): asked again at the next poll
        if requested:
            raise JobCanceled(self._job.id)

    def engine(self, name: str, engine_type: type[EngineT]) -> EngineT:
        engine = self._pool.get(name, engine_type, progress=self.download_progress)
        self._held_engines.append(name)
        return engine

    def release_engines(self) -> None:
        """Hand back every engine this attempt took (the runner calls it when the job ends)."""
        while self._held_engines:
            self._pool.release(self._held_engines.pop())
        if self._live is not None:
            self._live.close()
            self._live = None

    def segments(self) -> SegmentWork | None:
        return self._segment_work

    def live(self) -> RedisLiveLink:
        if self._live_links is None:
            raise RuntimeError("this worker hosts no live sessions")
        if self._live is None:
            self._live = self._live_links(self._job.id)
        return self._live

    def live_figures(self, figures: LiveFigures) -> None:
        if self._on_live_figures is not None:
            self._on_live_figures(figures)

    def download_progress(self, update: TransferProgress) -> None:
        """A model fetched on first use: throttled ``progress`` events, a ``log`` when verified."""
        if update.verified:
            self.log(
                f"model {update.model_id}: {update.path} fetched and verified "
                f"({human_size(update.total)} from {update.source})"
            )
            return
        self.progress(
            update.percent,
            stage="download",
            message=(
                f"model {update.model_id}: {update.path} "
                f"{human_size(update.done)} of {human_size(update.total)}"
            ),
        )
