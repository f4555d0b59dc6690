"""An assistant turn with ``visemes``: visemes.json times the whole spoken reply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from visiovox.engines.pool import EnginePool
from visiovox.media.kinds import MediaKind
from visiovox.media.probe import probe_media
from visiovox.pipelines.assistant.spec import SPEC
from visiovox.pipelines.testing import LocalContext, run_pipeline


def test_the_reply_comes_with_its_visemes(tmp_path: Path, engine_pool: EnginePool) -> None:
    ctx = LocalContext(root=tmp_path / "job", pool=engine_pool)
    params = {"text": "Say hello to Bob.", "max_tokens": 24, "visemes": True, "visemes_fps": 30}
    result = run_pipeline(SPEC, params, ctx)
    assert result is not None
    assert {"reply.wav", "visemes.json", "turn.json"} <= set(ctx.output_names())
    document = json.loads(ctx.output_path("visemes.json").read_text("utf-8"))
    reply_s = probe_media(ctx.output_path("reply.wav"), kind=MediaKind.AUDIO).duration_s
    assert document["duration_s"] == pytest.approx(reply_s, abs=0.01)
    assert document["frame_count"] >= int(reply_s * 30)
    assert len({segment["viseme"] for segment in document["segments"]}) >= 5
