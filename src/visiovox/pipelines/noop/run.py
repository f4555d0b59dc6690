"""The noop pipelines' work: sleep in steps, checking for a cancel and reporting progress.

With ``write_bytes`` it then writes that many zeros to ``out.bin``, a chunk at a time.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from visiovox.pipelines.context import RunContext
from visiovox.pipelines.noop.spec import NoopParams

OUTPUT = "out.bin"
CHUNK_BYTES = 1024 * 1024


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, NoopParams)
    step_s = params.sleep_s / params.steps
    for step in range(params.steps):
        ctx.check_cancelled()
        if step_s:
            time.sleep(step_s)
        ctx.progress(100.0 * (step + 1) / params.steps, stage="sleep")
    if params.write_bytes:
        _write_output(ctx, params.write_bytes)
    return {"slept_s": params.sleep_s, "steps": params.steps}


def _write_output(ctx: RunContext, size: int) -> None:
    chunk = bytes(min(size, CHUNK_BYTES))
    with ctx.output_path(OUTPUT).open("wb") as out:
        for start in range(0, size, CHUNK_BYTES):
            ctx.check_cancelled()
            out.write(chunk[: size - start])
    ctx.add_output(OUTPUT, "application/octet-stream")
