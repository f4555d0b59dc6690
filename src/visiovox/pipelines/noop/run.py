"""The noop pipelines' work: sleep in steps, checking for a cancel and reporting progress."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from visiovox.pipelines.context import RunContext
from visiovox.pipelines.noop.spec import NoopParams


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, NoopParams)
    step_s = params.sleep_s / params.steps
    for step in range(params.steps):
        ctx.check_cancelled()
        if step_s:
            time.sleep(step_s)
        ctx.progress(100.0 * (step + 1) / params.steps, stage="sleep")
    return {"slept_s": params.sleep_s, "steps": params.steps}
