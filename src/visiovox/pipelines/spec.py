"""What a pipeline declares: its params, inputs, outputs and the engines it needs.

A pipeline is a package, ``pipelines/<name>/``: ``spec.py`` holds its
``SPEC``, light enough for the gateway (pydantic models and names, no engine);
``run.py`` does the work and imports engines and media codecs at its top. The
spec names its ``run`` function by a dotted reference, which the registry
resolves on first use (``registry.resolve_run``), so reading a spec never
imports the run module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from visiovox.jobs.placement import Needs
from visiovox.jobs.queues import DeviceClass
from visiovox.media.kinds import MediaKind

if TYPE_CHECKING:
    from visiovox.pipelines.context import RunContext


@dataclass(frozen=True)
class InputSpec:
    """One file field a pipeline accepts.

    ``required_when`` (param, value): an optional field that becomes required
    when that param has that value (``None``: when the param is left out),
    checked at submission. ``min_duration_s``: a file the probe found shorter
    is refused at submission with 422 ``too_short_code``.
    """

    field: str
    kinds: frozenset[MediaKind]
    required: bool = True
    description: str = ""
    required_when: tuple[str, str | None] | None = None
    min_duration_s: float | None = None
    too_short_code: str = "input_too_short"


RunFunction = Callable[["RunContext", BaseModel], Mapping[str, Any] | None]


@dataclass(frozen=True)
class PipelineSpec:
    """A pipeline as the gateway sees it; the scheduler sees only its ``needs``.

    ``run`` is ``"package.module:function"``, a ``RunFunction`` that returns a small
    JSON-able summary stored as the job's ``result`` (or None).
    """

    name: str
    summary: str
    params: type[BaseModel]
    run: str
    inputs: tuple[InputSpec, ...] = ()
    engines: tuple[str, ...] = ()
    devices: frozenset[str] = field(default_factory=lambda: frozenset({"cpu", "gpu"}))
    # A live session's job: only its WebSocket creates one, never POST /v1/jobs.
    live: bool = False
    # Someone waits on its answer as on a conversation turn (assistant, chat, speech,
    # transcription): the worker runs it, as a live session, at worker.cpu_priority.
    interactive: bool = False

    def __post_init__(self) -> None:
        module, _, function = self.run.partition(":")
        if not module or not function:
            raise ValueError(
                f"{self.name}: run must be 'package.module:function', not {self.run!r}"
            )

    @property
    def latency_bound(self) -> bool:
        """Whether the worker raises its CPU share while it runs a job of this pipeline."""
        return self.live or self.interactive

    def input(self, name: str) -> InputSpec | None:
        return next((spec for spec in self.inputs if spec.field == name), None)

    @cached_property
    def needs(self) -> Needs:
        """What the scheduler places a job of this pipeline by: its devices and engines."""
        return Needs(
            pipeline=self.name,
            devices=frozenset(DeviceClass(device) for device in self.devices),
            engines=frozenset(self.engines),
        )
