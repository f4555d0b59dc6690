"""Diagnostic pipelines: optional sleep in steps, no engines. For health checks and benchmarks.

``write_bytes`` makes it write an output of that size (``out.bin``), to check
how a deployment behaves when its disk fills up.

``noop`` runs anywhere; ``noop-gpu`` only on GPU workers, to check that a
fleet's GPU workers take jobs (and, with none registered, that the gateway
refuses such a job at once with ``no_capable_worker``).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from visiovox.pipelines.spec import PipelineSpec

RUN = "visiovox.pipelines.noop.run:run"


class NoopParams(BaseModel):
    """How long to sleep, in how many cancellable steps; how large an output to write."""

    sleep_s: float = Field(default=0.0, ge=0.0, le=600.0)
    steps: int = Field(default=1, ge=1, le=10_000)
    write_bytes: int = Field(default=0, ge=0, le=1024**3)


SPEC = PipelineSpec(
    name="noop",
    summary="Does nothing (optionally sleeps): dispatch checks and benchmarks.",
    params=NoopParams,
    run=RUN,
)

GPU_SPEC = PipelineSpec(
    name="noop-gpu",
    summary="noop on a GPU worker only: checks that GPU workers take jobs.",
    params=NoopParams,
    run=RUN,
    devices=frozenset({"gpu"}),
)
