"""Silero VAD on a real stream: Piper speech between stretches of silence, fed in 20 ms chunks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from tests.wer import SPOKEN_SENTENCE
from visiovox.engines.pool import EnginePool
from visiovox.engines.tts.base import TTSEngine
from visiovox.engines.vad.base import (
    VADEngine,
    VADOptions,
    VoiceEvent,
    VoiceEventKind,
    voiced_span,
)
from visiovox.media.audio import decode_audio, encode_audio

RATE = 16_000
CHUNK = 320  # 20 ms
LEAD_S, TAIL_S = 0.6, 1.2
# Where Silero places speech edges versus where the waveform's energy does.
TOLERANCE_S = 0.2


@pytest.fixture(scope="module")
def speech(
    bundled_pool: EnginePool, tmp_path_factory: pytest.TempPathFactory
) -> npt.NDArray[np.float32]:
    """SPOKEN_SENTENCE at 16 kHz, trimmed to its voiced part."""
    tts = bundled_pool.get("tts.piper", TTSEngine)  # type: ignore[type-abstract]
    try:
        samples = np.concatenate([chunk.samples for chunk in tts.synthesize(SPOKEN_SENTENCE)])
        path = tmp_path_factory.mktemp("speech") / "sentence.wav"
        encode_audio(samples, sample_rate=tts.sample_rate, fmt="wav", path=path)
    finally:
        bundled_pool.release("tts.piper")
    audio = decode_audio(path, sample_rate=RATE)
    loud = np.flatnonzero(np.abs(audio) > 0.02)
    return audio[loud[0] : loud[-1] + 1]


@pytest.fixture
def vad(bundled_pool: EnginePool) -> Iterator[VADEngine]:
    yield bundled_pool.get("vad.silero", VADEngine)  # type: ignore[type-abstract]
    bundled_pool.release("vad.silero")


def _stream(
    vad: VADEngine, audio: npt.NDArray[np.float32], options: VADOptions
) -> list[tuple[VoiceEvent, float]]:
    """Every event and the stream time (seconds fed) at which it was reported."""
    detector = vad.detector(options)
    seen: list[tuple[VoiceEvent, float]] = []
    for start in range(0, len(audio), CHUNK):
        for event in detector.feed(audio[start : start + CHUNK]):
            seen.append((event, detector.samples_seen / RATE))
    return seen


def _silence(seconds: float) -> npt.NDArray[np.float32]:
    # A faint noise floor, as a microphone has, rather than digital zeros.
    return np.random.default_rng(7).normal(0, 0.001, int(seconds * RATE)).astype(np.float32)


def test_speech_start_and_end_are_found_within_tolerance(
    vad: VADEngine, speech: npt.NDArray[np.float32]
) -> None:
    audio = np.concatenate([_silence(LEAD_S), speech, _silence(TAIL_S)])
    speech_end_s = LEAD_S + len(speech) / RATE
    options = VADOptions(min_silence_ms=500, speech_pad_ms=0)

    events = _stream(vad, audio, options)

    kinds = [event.kind for event, _ in events]
    assert kinds == [VoiceEventKind.SPEECH_START, VoiceEventKind.SPEECH_END], kinds
    (start, started_at), (end, ended_at) = events
    assert abs(start.start / RATE - LEAD_S) <= TOLERANCE_S
    assert start.start / RATE <= started_at <= LEAD_S + 0.5  # reported soon after speech began
    assert end.end is not None and abs(end.end / RATE - speech_end_s) <= TOLERANCE_S
    # Reported once the configured silence has passed, not at the end of the stream.
    assert 0.5 <= ended_at - end.end / RATE <= 0.5 + TOLERANCE_S
    assert ended_at < len(audio) / RATE


def test_a_longer_silence_setting_ends_later_and_pause_comes_first(
    vad: VADEngine, speech: npt.NDArray[np.float32]
) -> None:
    audio = np.concatenate([_silence(LEAD_S), speech, _silence(TAIL_S)])
    short = _stream(vad, audio, VADOptions(min_silence_ms=300))
    long = _stream(vad, audio, VADOptions(min_silence_ms=900, pause_ms=200))

    assert [e.kind for e, _ in long] == [
        VoiceEventKind.SPEECH_START,
        VoiceEventKind.PAUSE,
        VoiceEventKind.SPEECH_END,
    ]
    short_end_at, long_end_at = short[-1][1], long[-1][1]
    assert long_end_at - short_end_at == pytest.approx(0.6, abs=0.1)
    pause_at = long[1][1]
    assert long_end_at - pause_at == pytest.approx(0.7, abs=0.1)


def test_silence_and_padding(vad: VADEngine, speech: npt.NDArray[np.float32]) -> None:
    assert _stream(vad, _silence(2.0), VADOptions()) == []
    audio = np.concatenate([_silence(LEAD_S), speech, _silence(TAIL_S)])
    bare = _stream(vad, audio, VADOptions(speech_pad_ms=0))
    padded = _stream(vad, audio, VADOptions(speech_pad_ms=200))
    assert bare[0][0].start - padded[0][0].start == pytest.approx(3_200, abs=1)
    assert padded[-1][0].end is not None and bare[-1][0].end is not None
    assert padded[-1][0].end - bare[-1][0].end == pytest.approx(3_200, abs=1)


def test_two_utterances_give_two_turns(vad: VADEngine, speech: npt.NDArray[np.float32]) -> None:
    audio = np.concatenate([_silence(0.3), speech, _silence(0.8), speech, _silence(0.8)])
    kinds = [event.kind for event, _ in _stream(vad, audio, VADOptions(min_silence_ms=500))]
    assert kinds == [VoiceEventKind.SPEECH_START, VoiceEventKind.SPEECH_END] * 2


def test_threshold_one_hears_nothing(vad: VADEngine, speech: npt.NDArray[np.float32]) -> None:
    audio = np.concatenate([_silence(0.3), speech, _silence(0.8)])
    assert _stream(vad, audio, VADOptions(threshold=1.01)) == []


def test_voiced_span_covers_every_utterance_of_a_recording(
    vad: VADEngine, speech: npt.NDArray[np.float32]
) -> None:
    lead, gap = _silence(1.0), _silence(0.8)
    audio = np.concatenate([lead, speech, gap, speech, _silence(1.0)])
    span = voiced_span(vad.detector(VADOptions(speech_pad_ms=0)), audio)
    assert span is not None
    start, end = span
    assert abs(start - len(lead)) <= TOLERANCE_S * RATE
    assert abs(end - (len(lead) + 2 * len(speech) + len(gap))) <= TOLERANCE_S * RATE
    assert voiced_span(vad.detector(VADOptions()), _silence(2.0)) is None
    # Speech running to the very end of the recording still ends the span there.
    cut = voiced_span(vad.detector(VADOptions(speech_pad_ms=0)), np.concatenate([lead, speech]))
    assert cut is not None and abs(cut[1] - (len(lead) + len(speech))) <= TOLERANCE_S * RATE
