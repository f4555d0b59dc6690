"""Every pipeline that speaks stops at a cancel between chunks and at ``tts.max_audio_s``."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from visiovox.config import Settings
from visiovox.engines.tts.base import SpeechChunk
from visiovox.errors import JobCanceled, PipelineError
from visiovox.jobs.model import EventType
from visiovox.pipelines.assistant.speech import SentenceSpeaker
from visiovox.pipelines.synthesis import AudioBudget
from visiovox.pipelines.talking_avatar import spec as talking_avatar
from visiovox.pipelines.testing import LocalContext, run_pipeline
from visiovox.pipelines.tts import spec as tts

# About 2,100 characters and two minutes of speech without one sentence end.
LONG_RUN = " ".join(["speak", "this", "text", "without", "stopping", "once"] * 60)
CAP_S = 4.0


@pytest.fixture
def capped(model_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The engines' settings with ``tts.max_audio_s`` at ``CAP_S``."""
    monkeypatch.setattr(model_settings.tts, "max_audio_s", CAP_S)
    yield


def _chunk(seconds: float) -> SpeechChunk:
    return SpeechChunk(text="x", samples=np.zeros(int(seconds * 100), np.float32), sample_rate=100)


def test_the_budget_fails_once_the_audio_passes_the_cap() -> None:
    budget = AudioBudget(max_s=10.0)
    budget.spend(_chunk(6.0))
    budget.spend(_chunk(4.0))
    with pytest.raises(PipelineError) as caught:
        budget.spend(_chunk(0.5))
    assert caught.value.code == "audio_too_long"


def test_cancel_stops_a_long_run_after_its_first_piece(ctx: LocalContext) -> None:
    ctx.on_progress = lambda percent, stage: ctx.cancel()
    with pytest.raises(JobCanceled):
        run_pipeline(tts.SPEC, {"text": LONG_RUN}, ctx)
    (progress,) = ctx.of_type(EventType.PROGRESS)
    # Before issue 11 the run was one sentence: the first progress came at 90 %, at its end.
    assert progress["percent"] < 15


@pytest.mark.usefixtures("capped")
def test_tts_fails_past_the_audio_cap_without_speaking_the_rest(ctx: LocalContext) -> None:
    with pytest.raises(PipelineError) as caught:
        run_pipeline(tts.SPEC, {"text": LONG_RUN}, ctx)
    assert caught.value.code == "audio_too_long"
    assert len(ctx.of_type(EventType.PROGRESS)) <= 1
    assert ctx.outputs == []


@pytest.mark.usefixtures("capped")
def test_talking_avatar_speech_is_capped_too(ctx: LocalContext) -> None:
    with pytest.raises(PipelineError) as caught:
        run_pipeline(talking_avatar.SPEC, {"text": LONG_RUN}, ctx)
    assert caught.value.code == "audio_too_long"


@pytest.mark.usefixtures("capped")
def test_an_assistant_reply_is_capped_across_its_sentences(ctx: LocalContext) -> None:
    speaker = SentenceSpeaker(ctx, voice=None)
    with pytest.raises(PipelineError) as caught:
        for _ in range(20):
            speaker.feed("This reply goes on and on. ")
    assert caught.value.code == "audio_too_long"
    ctx.release_engines()


def test_an_assistant_reply_checks_for_a_cancel_before_each_piece(ctx: LocalContext) -> None:
    speaker = SentenceSpeaker(ctx, voice=None)
    ctx.cancel()
    with pytest.raises(JobCanceled):
        speaker.feed(LONG_RUN)  # a run this long is final piece by piece
    assert speaker.count == 0
    ctx.release_engines()
