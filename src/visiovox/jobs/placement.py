"""What a job needs to be placed: the scheduler's whole view of a pipeline.

A pipeline's spec states it (``PipelineSpec.needs``); the scheduler places by
it alone, so the job domain knows nothing of pipelines.
"""

from __future__ import annotations

from dataclasses import dataclass

from visiovox.jobs.queues import DeviceClass


@dataclass(frozen=True)
class Needs:
    """The device classes a job of ``pipeline`` can run on and the engines it uses."""

    pipeline: str
    devices: frozenset[DeviceClass]
    engines: frozenset[str] = frozenset()
