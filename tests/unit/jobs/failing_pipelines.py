"""Tiny pipelines, one per failure mode, for the runner's tests."""

from __future__ import annotations

from pydantic import BaseModel

from visiovox.errors import PipelineError
from visiovox.media.errors import MediaError
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.spec import PipelineSpec


class NoParams(BaseModel):
    """No parameters."""


def raise_pipeline_error(ctx: RunContext, params: BaseModel) -> None:
    raise PipelineError("no_speech", "the audio holds no speech")


def raise_media_error(ctx: RunContext, params: BaseModel) -> None:
    """A media error no pipeline code mapped: the runner still ends the job with its code."""
    raise MediaError("truncated_media", "the audio stops at 0.2 s of a declared 3.0 s")


def crash(ctx: RunContext, params: BaseModel) -> None:
    raise RuntimeError("boom")


def write_output(ctx: RunContext, params: BaseModel) -> dict[str, int]:
    ctx.stage("write")
    ctx.output_path("hello.txt").write_text("hello")
    ctx.add_output("hello.txt", "text/plain")
    for step in range(100):
        ctx.progress(step)
    return {"written": 1}


def hog_memory(ctx: RunContext, params: BaseModel) -> None:
    """Holds 300 MB (written, so resident) across a unit of work, as a runaway job would."""
    ballast = b"x" * (300 * 1024 * 1024)
    ctx.check_cancelled()
    del ballast


PIPELINE_ERROR = PipelineSpec(
    name="t-error", summary="", params=NoParams, run=f"{__name__}:raise_pipeline_error"
)
MEDIA_ERROR = PipelineSpec(
    name="t-media", summary="", params=NoParams, run=f"{__name__}:raise_media_error"
)
CRASH = PipelineSpec(name="t-crash", summary="", params=NoParams, run=f"{__name__}:crash")
OUTPUT = PipelineSpec(name="t-output", summary="", params=NoParams, run=f"{__name__}:write_output")
HOG = PipelineSpec(name="t-hog", summary="", params=NoParams, run=f"{__name__}:hog_memory")
