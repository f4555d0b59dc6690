"""Run a pipeline in-process with an in-memory ``RunContext``: the harness for unit tests.

    ctx = LocalContext(root=tmp_path, pool=pool, inputs={"file": upload})
    result = run_pipeline(get_spec("stt"), {"format": "srt"}, ctx)
    assert ctx.output_names() == ["transcript.json", "transcript.srt"]

Events are recorded in order (``ctx.events``) without throttling; ``cancel()``
makes the next ``check_cancelled`` raise ``JobCanceled``, as a real cancel would.
A live pipeline talks to ``ctx.link`` (a ``MemoryLiveLink``): queue the client's
messages with ``put_audio``/``put_command``; what it sends is kept in ``sent``.
"""

from __future__ import annotations

import mimetypes
import queue
import shutil
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from visiovox.config import Settings
from visiovox.engines.base import Engine
from visiovox.engines.pool import EnginePool
from visiovox.errors import JobCanceled
from visiovox.jobs.model import EventType, InputFile, OutputFile
from visiovox.jobs.workers import LiveFigures
from visiovox.models.transfer import TransferProgress
from visiovox.pipelines.context import LiveInput
from visiovox.pipelines.registry import resolve_run
from visiovox.pipelines.spec import PipelineSpec

EngineT = TypeVar("EngineT")


@dataclass(frozen=True)
class RecordedEvent:
    """One event the pipeline emitted."""

    type: EventType
    data: dict[str, Any] = field(default_factory=dict)


class MemoryLiveLink:
    """A ``LiveLink`` in memory: a queue in, a list out, a dict of session histories."""

    def __init__(self) -> None:
        self._inputs: queue.Queue[LiveInput] = queue.Queue()
        # Everything sent: JSON messages as dicts, audio as bytes, in order.
        self.sent: list[dict[str, Any] | bytes] = []
        self.histories: dict[str, list[dict[str, str]]] = defaultdict(list)
        # Called with each sent item; a test can answer from here (e.g. barge in).
        self.on_send: Callable[[dict[str, Any] | bytes], None] | None = None

    @property
    def dropped(self) -> int:
        return 0

    def put_audio(self, data: bytes, *, frames: int = 0) -> None:
        self._inputs.put(LiveInput(audio=data, frames=frames))

    def put_frame(self, data: bytes, *, seq: int, lost: int = 0) -> None:
        """A live face swap's video frame ``seq``, as the gateway numbers it, after ``lost``
        messages the input stream's cap dropped."""
        self._inputs.put(LiveInput(audio=data, video=True, frames=seq, lost=lost))

    def put_command(self, command: dict[str, Any], *, frames: int = 0) -> None:
        self._inputs.put(LiveInput(command=command, frames=frames))

    def receive(self, *, timeout_s: float) -> list[LiveInput]:
        items: list[LiveInput] = []
        try:
            items.append(
                self._inputs.get(timeout=timeout_s) if timeout_s > 0 else self._inputs.get_nowait()
            )
            while True:
                items.append(self._inputs.get_nowait())
        except queue.Empty:
            return items

    def send(self, message: dict[str, Any]) -> None:
        self._sent(message)

    def send_audio(self, data: bytes) -> None:
        self._sent(data)

    def _sent(self, item: dict[str, Any] | bytes) -> None:
        self.sent.append(item)
        if self.on_send is not None:
            self.on_send(item)

    def remember(self, session_id: str, messages: list[dict[str, str]]) -> None:
        self.histories[session_id].extend(messages)

    def messages(self) -> list[dict[str, Any]]:
        """The JSON messages sent, in order."""
        return [item for item in self.sent if isinstance(item, dict)]


class LocalContext:
    """A ``RunContext`` backed by a folder and a list; ``pool`` supplies the engines."""

    def __init__(
        self,
        *,
        root: Path,
        pool: EnginePool | None = None,
        settings: Settings | None = None,
        inputs: Mapping[str, tuple[Path, InputFile]] | None = None,
        device: str = "cpu",
        job_id: str | None = None,
    ) -> None:
        self._root = root
        self._pool = pool
        self._settings = settings
        self._device = device
        self._job_id = job_id or uuid.uuid4().hex
        self._inputs = dict(inputs or {})
        self._outputs: dict[str, OutputFile] = {}
        self._cancelled = threading.Event()
        self._stage: str | None = None
        self.events: list[RecordedEvent] = []
        self.link = MemoryLiveLink()
        self.live_reports: list[LiveFigures] = []
        self._held_engines: list[str] = []
        # Called on each progress event; a test can cancel mid-run from here.
        self.on_progress: Callable[[float, str | None], None] | None = None
        self.output_dir.mkdir(parents=True, exist_ok=True)

    @classmethod
    def with_files(
        cls, *, root: Path, pool: EnginePool | None = None, files: Mapping[str, Path]
    ) -> LocalContext:
        """A context whose inputs are copies of ``files`` (field -> path), described by name."""
        inputs: dict[str, tuple[Path, InputFile]] = {}
        for name, source in files.items():
            dest = root / "in" / f"{name}{source.suffix}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            content_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
            item = InputFile(
                field=name,
                name=dest.name,
                content_type=content_type,
                size=dest.stat().st_size,
                filename=source.name,
            )
            inputs[name] = (dest, item)
        return cls(root=root, pool=pool, inputs=inputs)

    @property
    def job_id(self) -> str:
        return self._job_id

    @property
    def device(self) -> str:
        return self._device

    @property
    def settings(self) -> Settings:
        """``settings`` if given, else the engine pool's (a worker's are its pool's too)."""
        if self._settings is not None:
            return self._settings
        if self._pool is None:
            raise RuntimeError("this LocalContext has neither settings nor an engine pool")
        return self._pool.settings

    @property
    def output_dir(self) -> Path:
        return self._root / "out"

    @property
    def outputs(self) -> list[OutputFile]:
        return list(self._outputs.values())

    def output_names(self) -> list[str]:
        return sorted(self._outputs)

    def input(self, field: str) -> InputFile | None:
        entry = self._inputs.get(field)
        return entry[1] if entry is not None else None

    def input_path(self, field: str) -> Path:
        try:
            return self._inputs[field][0]
        except KeyError:
            raise KeyError(f"job {self._job_id} has no input {field!r}") from None

    def output_path(self, name: str) -> Path:
        return self.output_dir / name

    def add_output(self, name: str, content_type: str | None = None) -> OutputFile:
        guessed = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        output = OutputFile(
            name=name, content_type=guessed, size=self.output_path(name).stat().st_size
        )
        self._outputs[name] = output
        self._record(EventType.OUTPUT, output.model_dump(mode="json"))
        return output

    def progress(
        self, percent: float, *, stage: str | None = None, message: str | None = None
    ) -> None:
        stage = stage or self._stage
        clamped = round(max(0.0, min(100.0, percent)), 2)
        self._record(EventType.PROGRESS, {"percent": clamped, "stage": stage, "message": message})
        if self.on_progress is not None:
            self.on_progress(clamped, stage)

    def stage(self, name: str) -> None:
        self._stage = name
        self._record(EventType.STAGE, {"stage": name})

    def log(self, message: str) -> None:
        self._record(EventType.LOG, {"message": message})

    def token(self, text: str) -> None:
        self._record(EventType.LOG, {"token": text})

    def cancel(self) -> None:
        """Ask the running pipeline to stop at its next ``check_cancelled``."""
        self._cancelled.set()

    def check_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise JobCanceled(self._job_id)

    def engine(self, name: str, engine_type: type[EngineT]) -> EngineT:
        if self._pool is None:
            raise RuntimeError("this LocalContext has no engine pool")
        engine = self._pool.get(name, Engine, progress=self._on_download)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
        self._held_engines.append(name)
        if not isinstance(engine, engine_type):
            raise TypeError(
                f"engine {name} is a {type(engine).__name__}, not {engine_type.__name__}"
            )
        return engine

    def release_engines(self) -> None:
        """Hand back the engines this run took, as the worker does when a job ends."""
        while self._held_engines and self._pool is not None:
            self._pool.release(self._held_engines.pop())

    def _on_download(self, update: TransferProgress) -> None:
        if update.verified:
            self.log(f"model {update.model_id}: {update.path} fetched and verified")
        else:
            self.progress(update.percent, stage="download", message=update.path)

    def segments(self) -> None:
        """In-process runs are never split: a long video runs whole."""
        return None

    def live(self) -> MemoryLiveLink:
        return self.link

    def live_figures(self, figures: LiveFigures) -> None:
        self.live_reports.append(figures)

    def of_type(self, event_type: EventType) -> list[dict[str, Any]]:
        """The data of every recorded event of ``event_type``, in order."""
        return [event.data for event in self.events if event.type is event_type]

    def _record(self, event_type: EventType, data: dict[str, Any]) -> None:
        self.events.append(RecordedEvent(type=event_type, data=data))


def run_pipeline(
    spec: PipelineSpec, params: Mapping[str, Any], ctx: LocalContext
) -> Mapping[str, Any] | None:
    """Validate ``params`` with the spec's model and run the pipeline, as the worker does."""
    validated = spec.params.model_validate(dict(params))
    for declared in spec.inputs:
        if declared.required and ctx.input(declared.field) is None:
            raise ValueError(f"pipeline {spec.name} needs the input {declared.field!r}")
    try:
        return resolve_run(spec)(ctx, validated)
    finally:
        ctx.release_engines()
