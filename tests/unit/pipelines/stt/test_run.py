"""The stt pipeline with the real Whisper model, fed speech made by the tts pipeline."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from tests.wer import SPOKEN_SENTENCE, word_error_rate
from visiovox.engines.pool import EnginePool
from visiovox.errors import JobCanceled, PipelineError
from visiovox.jobs.model import EventType
from visiovox.media.audio import encode_audio
from visiovox.pipelines.stt import spec as stt
from visiovox.pipelines.testing import LocalContext, run_pipeline
from visiovox.pipelines.tts import spec as tts

FOX = SPOKEN_SENTENCE


@pytest.fixture(scope="module")
def fox_speech(tmp_path_factory: pytest.TempPathFactory, engine_pool: EnginePool) -> Path:
    """The fox sentence spoken by Piper, as an MP3 upload."""
    ctx = LocalContext(root=tmp_path_factory.mktemp("tts"), pool=engine_pool)
    run_pipeline(tts.SPEC, {"text": FOX, "format": "mp3"}, ctx)
    speech: Path = ctx.output_path("speech.mp3")
    return speech


def _stt_context(root: Path, pool: EnginePool, upload: Path) -> LocalContext:
    return LocalContext.with_files(root=root, pool=pool, files={"file": upload})


def test_tts_to_stt_round_trip(tmp_path: Path, engine_pool: EnginePool, fox_speech: Path) -> None:
    ctx = _stt_context(tmp_path, engine_pool, fox_speech)
    result = run_pipeline(stt.SPEC, {"language": "en", "format": "srt"}, ctx)
    assert result is not None
    assert word_error_rate(FOX, result["text"]) <= 0.10, result["text"]
    assert result["language"] == "en"
    assert ctx.output_names() == ["transcript.json", "transcript.srt"]

    body = json.loads(ctx.output_path("transcript.json").read_text())
    assert body["text"] == result["text"]
    assert body["duration_s"] == pytest.approx(result["duration_s"])
    assert body["segments"] and body["segments"][0]["start"] < body["segments"][-1]["end"]

    srt = ctx.output_path("transcript.srt").read_text()
    assert re.match(r"1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n\S", srt), srt
    stages = [event["stage"] for event in ctx.of_type(EventType.STAGE)]
    assert stages == ["decode", "transcribe", "write"]
    assert ctx.of_type(EventType.PROGRESS)[-1]["percent"] == 100.0


def test_word_timestamps_and_vtt(tmp_path: Path, engine_pool: EnginePool, fox_speech: Path) -> None:
    ctx = _stt_context(tmp_path, engine_pool, fox_speech)
    run_pipeline(stt.SPEC, {"language": "en", "format": "vtt", "word_timestamps": True}, ctx)
    words = [
        w
        for s in json.loads(ctx.output_path("transcript.json").read_text())["segments"]
        for w in s["words"]
    ]
    assert [w["word"].strip(".,").lower() for w in words][-3:] == ["the", "old", "mill"]
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    assert ctx.output_path("transcript.vtt").read_text().startswith("WEBVTT\n\n00:00:")


def test_language_is_detected(tmp_path: Path, engine_pool: EnginePool, fox_speech: Path) -> None:
    ctx = _stt_context(tmp_path, engine_pool, fox_speech)
    result = run_pipeline(stt.SPEC, {"language": "auto", "format": "text"}, ctx)
    assert result is not None and result["language"] == "en"
    text = ctx.output_path("transcript.txt").read_text()
    assert text.endswith("\n") and word_error_rate(FOX, text) <= 0.10


def test_silence_gives_an_empty_transcript(tmp_path: Path, engine_pool: EnginePool) -> None:
    silence = tmp_path / "silence.wav"
    encode_audio(
        np.zeros(16_000 * 3, dtype=np.float32), sample_rate=16_000, fmt="wav", path=silence
    )
    ctx = _stt_context(tmp_path / "job", engine_pool, silence)
    result = run_pipeline(stt.SPEC, {"language": "en", "format": "srt"}, ctx)
    assert result == {"text": "", "language": "en", "duration_s": 3.0}
    assert ctx.output_path("transcript.srt").read_text() == ""


def test_cancel_while_transcribing(
    tmp_path: Path, engine_pool: EnginePool, fox_speech: Path
) -> None:
    ctx = _stt_context(tmp_path, engine_pool, fox_speech)

    def cancel_on_first_segment(percent: float, stage: str | None) -> None:
        if stage == "transcribe":
            ctx.cancel()

    ctx.on_progress = cancel_on_first_segment
    with pytest.raises(JobCanceled):
        run_pipeline(stt.SPEC, {"language": "en"}, ctx)
    assert ctx.outputs == []


def test_garbage_upload_fails_with_a_media_code(tmp_path: Path, engine_pool: EnginePool) -> None:
    garbage = tmp_path / "upload.mp3"
    garbage.write_bytes(os.urandom(10_000))
    ctx = _stt_context(tmp_path / "job", engine_pool, garbage)
    with pytest.raises(PipelineError) as caught:
        run_pipeline(stt.SPEC, {}, ctx)
    assert caught.value.code == "invalid_media"


@pytest.mark.parametrize(
    ("params", "language"),
    [
        ({}, None),
        ({"language": "EN"}, "en"),
        ({"language": ""}, None),
        ({"language": "auto"}, None),
    ],
)
def test_language_param(params: dict[str, object], language: str | None) -> None:
    assert stt.STTParams.model_validate(params).language == language


@pytest.mark.parametrize("params", [{"language": "english"}, {"format": "docx"}, {"extra": 1}])
def test_bad_params(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        stt.STTParams.model_validate(params)


def test_spec_accepts_audio_and_video() -> None:
    (upload,) = stt.SPEC.inputs
    assert upload.field == "file" and upload.required
    assert {kind.value for kind in upload.kinds} == {"audio", "video"}
    assert stt.SPEC.engines == ("stt.whisper",)
