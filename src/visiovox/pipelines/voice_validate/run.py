"""Check a voice's files; remove them when they fail, so nothing invalid stays stored."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from visiovox.engines.voice.rvc_graph import InvalidVoiceModel
from visiovox.engines.voice.rvc_validate import validate_voice
from visiovox.jobs.voices import voice_files
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.voice_validate.spec import VoiceValidateParams


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, VoiceValidateParams)
    files = voice_files(ctx.settings.storage)
    ctx.stage("validate")
    try:
        check = validate_voice(
            model=files.model(params.voice_id),
            bank=files.bank(params.voice_id),
            sample_rate=params.sample_rate,
            settings=ctx.settings,
            device=ctx.device,
        )
    except InvalidVoiceModel:
        files.delete(params.voice_id)
        raise
    return {"voice_id": params.voice_id, "nodes": check.nodes, "index_rows": check.bank_rows}
