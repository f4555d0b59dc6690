"""The speech drive: the mouth opens with the energy and closes in silence."""

from __future__ import annotations

import numpy as np
import pytest

from visiovox.engines.lipsync.drive import mouth_track
from visiovox.errors import PipelineError

RATE = 16_000


def bursts(freq: float) -> np.ndarray:
    """0.5 s tone, 0.5 s silence, 0.5 s tone, 0.5 s silence."""
    t = np.arange(RATE // 2) / RATE
    tone = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    silence = np.zeros_like(tone)
    return np.concatenate([tone, silence, tone, silence])


def test_opening_follows_the_bursts_and_closes_between() -> None:
    track = mouth_track(bursts(500.0), sample_rate=RATE, fps=25.0, frames=50)
    assert len(track) == 50
    assert track.opening[5:12].min() > 0.8
    assert track.opening[20:24].max() < 0.05  # the second half of a silence
    assert track.opening[45:].max() < 0.05
    assert track.opening.min() >= 0.0 and track.opening.max() <= 1.0


def test_low_sounds_round_the_mouth_and_high_ones_spread_it() -> None:
    # Rounding is relative to the utterance's median timbre: low, middle, high.
    tones = [bursts(freq)[: RATE // 2] for freq in (400.0, 1200.0, 3000.0)]
    track = mouth_track(np.concatenate(tones), sample_rate=RATE, fps=25.0, frames=38)
    assert track.rounding[8:12].mean() > 0.3
    assert abs(track.rounding[20:24].mean()) < 0.2
    assert track.rounding[33:37].mean() < -0.3


def test_silence_is_no_speech() -> None:
    with pytest.raises(PipelineError) as caught:
        mouth_track(np.zeros(RATE, dtype=np.float32), sample_rate=RATE, fps=25.0, frames=25)
    assert caught.value.code == "no_speech"
