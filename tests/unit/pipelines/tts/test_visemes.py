"""tts with ``visemes``: visemes.json beside the speech, as long as it."""

from __future__ import annotations

import json

import pytest

from visiovox.media.kinds import MediaKind
from visiovox.media.probe import probe_media
from visiovox.pipelines.testing import LocalContext, run_pipeline
from visiovox.pipelines.tts.spec import SPEC


def test_visemes_json_comes_with_the_speech(ctx: LocalContext) -> None:
    params = {
        "text": "Mum made a map. Who knew?",
        "format": "mp3",
        "visemes": True,
        "visemes_fps": 24,
    }
    run_pipeline(SPEC, params, ctx)
    assert ctx.output_names() == ["speech.mp3", "visemes.json"]
    document = json.loads(ctx.output_path("visemes.json").read_text("utf-8"))
    audio_s = probe_media(ctx.output_path("speech.mp3"), kind=MediaKind.AUDIO).duration_s
    assert document["source"] == "phonemes" and document["fps"] == 24
    # mp3 pads its frames; the timeline is the synthesised audio's length.
    assert document["duration_s"] == pytest.approx(audio_s, abs=0.06)
    assert {"PP", "U"} <= {segment["viseme"] for segment in document["segments"]}


def test_no_visemes_unless_asked(ctx: LocalContext) -> None:
    run_pipeline(SPEC, {"text": "Mum made a map."}, ctx)
    assert ctx.output_names() == ["speech.wav"]
