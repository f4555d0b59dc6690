"""Wav2Lip's mel features, checked against properties computed by hand (no librosa)."""

from __future__ import annotations

import numpy as np
import pytest

from visiovox.engines.lipsync.mel import (
    FMAX,
    FMIN,
    N_FFT,
    N_MELS,
    SAMPLE_RATE,
    hz_to_mel,
    mel_filterbank,
    mel_to_hz,
    mel_window,
    wav2lip_mel,
)


def test_slaney_scale_is_linear_to_1khz_and_logarithmic_above() -> None:
    # 200/3 Hz per mel up to 1 kHz (15 mel); 27 mel per factor 6.4 above.
    assert hz_to_mel(np.array(1000.0)) == pytest.approx(15.0)
    assert hz_to_mel(np.array(500.0)) == pytest.approx(7.5)
    assert hz_to_mel(np.array(6400.0)) == pytest.approx(15.0 + 27.0)
    hz = np.array([FMIN, 440.0, 1000.0, 3000.0, FMAX])
    assert mel_to_hz(hz_to_mel(hz)) == pytest.approx(hz)


def test_filters_are_unit_area_triangles_between_55_and_7600_hz() -> None:
    bank = mel_filterbank()
    assert bank.shape == (N_MELS, N_FFT // 2 + 1)
    bin_hz = SAMPLE_RATE / N_FFT
    # Slaney normalisation: each triangle integrates to 1 over Hz (sampled every 20 Hz).
    assert bank.sum(axis=1) * bin_hz == pytest.approx(np.ones(N_MELS), rel=0.05)
    freqs = np.arange(N_FFT // 2 + 1) * bin_hz
    used = freqs[bank.sum(axis=0) > 0]
    assert used.min() >= FMIN and used.max() <= FMAX
    edges = mel_to_hz(np.linspace(hz_to_mel(np.array(FMIN)), hz_to_mel(np.array(FMAX)), N_MELS + 2))
    peaks = freqs[np.argmax(bank, axis=1)]
    assert np.all(np.abs(peaks - edges[1:-1]) <= bin_hz)


def test_mel_has_80_frames_a_second_normalised_to_plus_minus_4() -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    mel = wav2lip_mel(0.5 * np.sin(2 * np.pi * 1000.0 * t))
    assert mel.shape == (80, 81)
    assert mel.dtype == np.float32
    assert mel.min() >= -4.0 and mel.max() <= 4.0
    loudest_band = int(np.argmax(mel[:, 40]))
    edges = mel_to_hz(np.linspace(hz_to_mel(np.array(FMIN)), hz_to_mel(np.array(FMAX)), N_MELS + 2))
    assert edges[loudest_band] < 1000.0 < edges[loudest_band + 2]
    assert np.all(wav2lip_mel(np.zeros(SAMPLE_RATE)) == -4.0)


def test_window_of_frame_i_starts_at_int_i_times_80_over_fps() -> None:
    mel = np.arange(80 * 100, dtype=np.float32).reshape(80, 100)
    window = mel_window(mel, frame=7, fps=30.0)
    assert window.shape == (80, 16)
    assert window[0, 0] == int(7 * 80 / 30.0)
    # Past the end: the last 16 frames, as Wav2Lip's inference does.
    assert np.array_equal(mel_window(mel, frame=1000, fps=25.0), mel[:, -16:])
    short = mel_window(mel[:, :5], frame=0, fps=25.0)
    assert short.shape == (80, 16) and np.all(short[:, 5:] == -4.0)
