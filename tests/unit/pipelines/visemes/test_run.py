"""The visemes pipeline in-process: text Piper speaks, or speech audio, to visemes.json."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from visiovox.config import SPEECH_MAX_CHARS, Settings
from visiovox.engines.pool import EnginePool
from visiovox.engines.tts.base import TTSEngine
from visiovox.errors import PipelineError
from visiovox.jobs.model import EventType
from visiovox.media.audio import encode_audio
from visiovox.media.kinds import MediaKind
from visiovox.media.probe import probe_media
from visiovox.pipelines.testing import LocalContext, run_pipeline
from visiovox.pipelines.viseme_output import spoken_timeline
from visiovox.pipelines.visemes.spec import SPEC, VisemesParams

TEXT = "Bob bought a blue moon boat. Please move it."


def _document(ctx: LocalContext) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ctx.output_path("visemes.json").read_text("utf-8"))
    return document


def test_text_gives_speech_and_its_phoneme_visemes(ctx: LocalContext) -> None:
    result = run_pipeline(SPEC, {"text": TEXT, "fps": 25}, ctx)
    assert result is not None and result["source"] == "phonemes"
    assert ctx.output_names() == ["speech.wav", "visemes.json"]
    audio_s = probe_media(ctx.output_path("speech.wav"), kind=MediaKind.AUDIO).duration_s
    document = _document(ctx)
    assert document["duration_s"] == pytest.approx(audio_s, abs=0.01)
    assert document["frame_count"] == len(document["frames"]) == math.ceil(audio_s * 25 - 1e-6)
    assert result["frame_count"] == document["frame_count"]
    bilabials = [s for s in document["segments"] if set(s["phonemes"]) & set("bpm")]
    assert bilabials and all(s["viseme"] == "PP" for s in bilabials)
    stages = [event["stage"] for event in ctx.of_type(EventType.STAGE)]
    assert stages == ["synthesize", "write"]


def test_speech_audio_gives_the_visemes_heard(tmp_path: Path, engine_pool: EnginePool) -> None:
    spoken = LocalContext(root=tmp_path / "tts", pool=engine_pool)
    run_pipeline(SPEC, {"text": TEXT}, spoken)
    ctx = LocalContext.with_files(
        root=tmp_path / "job", pool=engine_pool, files={"audio": spoken.output_path("speech.wav")}
    )
    result = run_pipeline(SPEC, {"fps": 60}, ctx)
    assert result is not None and result["source"] == "audio"
    assert ctx.output_names() == ["visemes.json"]
    document = _document(ctx)
    assert document["source"] == "audio" and document["fps"] == 60
    assert document["duration_s"] == pytest.approx(_document(spoken)["duration_s"], abs=0.01)
    heard = {frame["viseme"] for frame in document["frames"]} - {"sil"}
    assert len(heard) >= 5 and "PP" in heard
    assert all(s["phonemes"] == "" for s in document["segments"])


def test_audio_without_speech_fails_no_speech(tmp_path: Path, engine_pool: EnginePool) -> None:
    quiet = tmp_path / "quiet.wav"
    noise = np.random.default_rng(1).normal(0, 1e-4, 16_000 * 2).astype(np.float32)
    encode_audio(noise, sample_rate=16_000, fmt="wav", path=quiet)
    ctx = LocalContext.with_files(root=tmp_path / "job", pool=engine_pool, files={"audio": quiet})
    with pytest.raises(PipelineError) as error:
        run_pipeline(SPEC, {}, ctx)
    assert error.value.code == "no_speech"
    assert "visemes.json" not in ctx.output_names()


def test_text_and_audio_together_are_refused(tmp_path: Path, engine_pool: EnginePool) -> None:
    quiet = tmp_path / "quiet.wav"
    encode_audio(np.zeros(1600, np.float32), sample_rate=16_000, fmt="wav", path=quiet)
    ctx = LocalContext.with_files(root=tmp_path / "job", pool=engine_pool, files={"audio": quiet})
    with pytest.raises(PipelineError) as error:
        run_pipeline(SPEC, {"text": "Hello."}, ctx)
    assert error.value.code == "conflicting_inputs"


def test_text_caps_are_the_tts_caps(
    ctx: LocalContext, model_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValidationError):
        VisemesParams(text="a" * (SPEECH_MAX_CHARS + 1))
    with pytest.raises(ValidationError):
        VisemesParams(text="\u200b\u200b")  # nothing speakable
    with pytest.raises(ValidationError):
        VisemesParams(text="Hello.", fps=500)
    monkeypatch.setattr(model_settings.tts, "max_chars", 100)
    with pytest.raises(PipelineError) as too_long:
        run_pipeline(SPEC, {"text": "Hello there. " * 10}, ctx)
    assert too_long.value.code == "text_too_long"
    monkeypatch.setattr(model_settings.tts, "max_audio_s", 1.0)
    with pytest.raises(PipelineError) as too_much:
        run_pipeline(SPEC, {"text": TEXT}, ctx)
    assert too_much.value.code == "audio_too_long"
    assert ctx.outputs == []


def test_speech_without_phonemes_is_heard_instead(ctx: LocalContext) -> None:
    engine = ctx.engine("tts.piper", TTSEngine)  # type: ignore[type-abstract]  # mypy#4717
    spoken = list(engine.synthesize(TEXT))
    bare = [dataclasses.replace(chunk, phonemes=()) for chunk in spoken]
    timed = spoken_timeline(ctx, spoken, sample_rate=engine.sample_rate)
    heard = spoken_timeline(ctx, bare, sample_rate=engine.sample_rate)
    assert (timed.source, heard.source) == ("phonemes", "audio")
    assert heard.duration_s == pytest.approx(timed.duration_s)
    ctx.release_engines()
