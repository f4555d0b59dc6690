"""What a pipeline declares: its params, inputs, outputs and the engines it needs.

Pipeline modules import nothing heavy at module level: the gateway imports
them for their spec, and only the worker calls ``run``, which asks the engine
pool for engines by name.
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
    checked at submission.
    """

    field: str
    kinds: frozenset[MediaKind]
    required: bool = True
    description: str = ""
    required_when: tuple[str, str | None] | None = None


RunFunction = Callable[["RunContext", BaseModel], Mapping[str, Any] | None]


@dataclass(frozen=True)
class PipelineSpec:
    """A pipeline as the gateway sees it; the scheduler sees only its ``needs``.

    ``run`` returns a small JSON-able summary stored as the job's ``result`` (or None).
    """

    name: str
    summary: str
    params: type[BaseModel]
    run: RunFunction
    inputs: tuple[InputSpec, ...] = ()
    engines: tuple[str, ...] = ()
    devices: frozenset[str] = field(default_factory=lambda: frozenset({"cpu", "gpu"}))
    # A live session's job: only its WebSocket creates one, never POST /v1/jobs.
    live: bool = False

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
