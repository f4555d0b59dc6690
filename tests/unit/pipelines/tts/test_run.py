"""The tts pipeline with the real Piper voice, run in-process."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from visiovox.errors import JobCanceled, PipelineError
from visiovox.jobs.model import EventType
from visiovox.media.kinds import MediaKind
from visiovox.media.probe import probe_media
from visiovox.media.sniff import sniff_file
from visiovox.pipelines.testing import LocalContext, run_pipeline
from visiovox.pipelines.tts.spec import SPEC, TTSParams

THREE_SENTENCES = "The sun is up. The birds are singing. It is a fine day."


def test_speaks_sentence_by_sentence(ctx: LocalContext) -> None:
    result = run_pipeline(SPEC, {"text": THREE_SENTENCES}, ctx)
    assert result is not None
    assert result["sentences"] == 3
    assert result["voice"] == "joe"
    assert result["sample_rate"] == 22_050
    assert 2.0 < result["duration_s"] < 8.0
    assert ctx.output_names() == ["speech.wav"]
    info = probe_media(ctx.output_path("speech.wav"), kind=MediaKind.AUDIO)
    assert info.duration_s == pytest.approx(result["duration_s"], abs=0.01)

    stages = [event["stage"] for event in ctx.of_type(EventType.STAGE)]
    assert stages == ["synthesize", "encode"]
    percents = [event["percent"] for event in ctx.of_type(EventType.PROGRESS)]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert len([p for p in ctx.of_type(EventType.PROGRESS) if p["stage"] == "synthesize"]) == 3
    (output,) = ctx.of_type(EventType.OUTPUT)
    assert output["content_type"] == "audio/wav"


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("mp3", "audio/mpeg"),
        ("ogg", "audio/ogg"),
        ("opus", "audio/ogg"),
        ("flac", "audio/flac"),
        ("aac", "audio/aac"),
    ],
)
def test_formats(ctx: LocalContext, fmt: str, content_type: str) -> None:
    run_pipeline(SPEC, {"text": "Testing one two three.", "format": fmt}, ctx)
    name = f"speech.{'ogg' if fmt == 'opus' else fmt}"
    assert [(o.name, o.content_type) for o in ctx.outputs] == [(name, content_type)]
    sniffed = sniff_file(ctx.output_path(name))
    assert sniffed is not None and sniffed.kind is MediaKind.AUDIO


def test_pcm_is_raw_16_bit(ctx: LocalContext) -> None:
    result = run_pipeline(SPEC, {"text": "Testing one two three.", "format": "pcm"}, ctx)
    assert result is not None
    assert [(o.name, o.content_type) for o in ctx.outputs] == [("speech.pcm", "audio/pcm")]
    size = ctx.output_path("speech.pcm").stat().st_size
    assert size == pytest.approx(2 * result["duration_s"] * result["sample_rate"], abs=50)


def test_speed_changes_duration(ctx: LocalContext) -> None:
    slow = run_pipeline(SPEC, {"text": "A sentence of moderate length.", "speed": 0.5}, ctx)
    fast = run_pipeline(SPEC, {"text": "A sentence of moderate length.", "speed": 2.0}, ctx)
    assert slow is not None and fast is not None
    # 4x nominally; Piper samples its phoneme durations, and the fixed pauses do not
    # scale, so 12 runs measured 2.6-3.6x: 2x leaves room for the noise.
    assert slow["duration_s"] > 2.0 * fast["duration_s"]


def test_unknown_voice(ctx: LocalContext) -> None:
    with pytest.raises(PipelineError) as caught:
        run_pipeline(SPEC, {"text": "Hello.", "voice": "nobody"}, ctx)
    assert caught.value.code == "unknown_voice"
    assert ctx.outputs == []


def test_cancel_between_sentences(ctx: LocalContext) -> None:
    ctx.on_progress = lambda percent, stage: ctx.cancel()
    with pytest.raises(JobCanceled):
        run_pipeline(SPEC, {"text": THREE_SENTENCES}, ctx)
    assert len(ctx.of_type(EventType.PROGRESS)) == 1  # stopped after the first sentence
    assert ctx.outputs == []


@pytest.mark.parametrize(
    "params",
    [
        {"text": ""},
        {"text": "   \n\t "},
        {"text": "x" * 4097},
        {"text": "Hi.", "speed": 0.1},
        {"text": "Hi.", "speed": 5},
        {"text": "Hi.", "format": "wma"},
        {"text": "Hi.", "colour": "blue"},
    ],
)
def test_params_are_validated(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TTSParams.model_validate(params)


def test_text_is_stripped() -> None:
    assert TTSParams.model_validate({"text": "  Hello.  "}).text == "Hello."
