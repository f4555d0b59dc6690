"""In-memory resampling (Piper voices at other rates, talking-avatar analysis audio)."""

from __future__ import annotations

import numpy as np

from visiovox.media.resample import resample


def test_a_tone_keeps_its_pitch_and_duration() -> None:
    rate, to = 22_050, 16_000
    t = np.arange(rate * 2) / rate
    tone = (0.5 * np.sin(2 * np.pi * 1_000 * t)).astype(np.float32)

    out = resample(tone, rate=rate, to=to)

    assert out.dtype == np.float32
    assert abs(len(out) - 2 * to) <= 64
    spectrum = np.abs(np.fft.rfft(out[:to]))
    assert abs(int(np.argmax(spectrum)) - 1_000) <= 2  # one second: 1 Hz bins


def test_same_rate_and_empty_input_pass_through() -> None:
    samples = np.linspace(-1, 1, 100, dtype=np.float32)
    assert np.array_equal(resample(samples, rate=16_000, to=16_000), samples)
    assert len(resample(np.zeros(0, np.float32), rate=22_050, to=16_000)) == 0
