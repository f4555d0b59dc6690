"""Visemes of Piper's own speech follow the phonemes it spoke, and span the audio exactly."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from visiovox.engines.pool import EnginePool
from visiovox.engines.tts.base import SpeechChunk, TTSEngine
from visiovox.engines.tts.piper import with_duration_output
from visiovox.engines.visemes.speech import has_phonemes, speech_timeline

# Bilabials (b, p, m) and rounded vowels (u, o) in every word but "a".
TEXT = "Bob paid a poor man for two moon boots. Pam, move over!"
BILABIALS = set("pbm")
ROUNDED = {"u": "U", "o": "O", "ʊ": "U", "ɔ": "O"}


@pytest.fixture(scope="module")
def chunks(bundled_pool: EnginePool) -> list[SpeechChunk]:
    tts = bundled_pool.get("tts.piper", TTSEngine)  # type: ignore[type-abstract]  # mypy#4717
    return list(tts.synthesize(TEXT))


def test_each_chunk_knows_its_phonemes_and_their_times_add_up(chunks: list[SpeechChunk]) -> None:
    assert has_phonemes(chunks)
    for chunk in chunks:
        symbols = [symbol for symbol, _ in chunk.phonemes]
        assert symbols[0] == "^" and symbols[-1] == "$"
        assert sum(seconds for _, seconds in chunk.phonemes) == pytest.approx(
            chunk.duration_s, abs=1e-4
        )


def test_the_pinned_voice_file_is_left_as_it_is(bundled_pool: EnginePool) -> None:
    import onnx

    (model,) = Path(bundled_pool.settings.models.cache_dir, "piper-joe-medium").glob("*.onnx")
    patched = with_duration_output(model)
    assert isinstance(patched, bytes)
    assert [o.name for o in onnx.load(str(model)).graph.output] == ["output"]
    assert len(onnx.load_from_string(patched).graph.output) == 2


def test_bilabials_give_pp_and_rounded_vowels_o_or_u(chunks: list[SpeechChunk]) -> None:
    timeline = speech_timeline(chunks)
    spoken = [(symbol, s.viseme) for s in timeline.segments for symbol in s.phonemes]
    bilabials = [viseme for symbol, viseme in spoken if symbol in BILABIALS]
    assert len(bilabials) >= 10 and set(bilabials) == {"PP"}
    rounded = [(ROUNDED[symbol], viseme) for symbol, viseme in spoken if symbol in ROUNDED]
    assert len(rounded) >= 4 and all(want == got for want, got in rounded)
    # And the frames at the middle of each bilabial show it, at 60 fps.
    frames = timeline.sample(60.0).dominant()
    for segment in timeline.segments:
        if segment.viseme == "PP" and segment.end_s - segment.start_s >= 2 / 60:
            assert frames[int((segment.start_s + segment.end_s) / 2 * 60)] == "PP"


@pytest.mark.parametrize("fps", [24.0, 25.0, 30.0, 60.0])
def test_the_timeline_is_as_long_as_the_audio(chunks: list[SpeechChunk], fps: float) -> None:
    audio_s = sum(len(chunk.samples) for chunk in chunks) / chunks[0].sample_rate
    timeline = speech_timeline(chunks)
    assert timeline.duration_s == pytest.approx(audio_s, abs=1e-9)
    assert timeline.segments[0].start_s == 0.0
    assert timeline.segments[-1].end_s == pytest.approx(audio_s, abs=1e-6)
    starts = np.array([s.start_s for s in timeline.segments[1:]])
    ends = np.array([s.end_s for s in timeline.segments[:-1]])
    np.testing.assert_allclose(starts, ends, atol=1e-9)  # back to back, no gap
    assert len(timeline.sample(fps)) == math.ceil(round(audio_s * fps, 6))
