"""RVC's pitch side against numbers from RVC-Project/Retrieval-based-Voice-Conversion-WebUI."""

from __future__ import annotations

import numpy as np
import pytest

from visiovox.engines.voice.rvc_pitch import (
    coarse_pitch,
    decode_salience,
    hz_to_mel,
    log_mel,
    mel_filterbank,
    pad_frames,
    shift_f0,
)


def test_coarse_pitch_matches_rvc_get_f0() -> None:
    # infer/modules/vc/pipeline.py get_f0 (f0_min 50, f0_max 1100) run on these F0 values.
    f0 = np.array([0, 50, 100, 110, 220, 440, 1100, 2000], dtype=np.float32)
    assert coarse_pitch(f0).tolist() == [1, 1, 20, 23, 60, 122, 255, 255]
    assert coarse_pitch(f0).dtype == np.int64


def test_key_shift_is_rvc_f0_up_key() -> None:
    f0 = np.array([0.0, 220.0], dtype=np.float32)
    assert shift_f0(f0, 12).tolist() == pytest.approx([0.0, 440.0])
    assert shift_f0(f0, -7)[1] == pytest.approx(220.0 * 2 ** (-7 / 12))


def test_salience_decodes_to_the_local_average_of_cents() -> None:
    # infer/lib/rmvpe.py: cents = 20 * bin + 1997.3794084376191, f0 = 10 * 2 ** (cents / 1200).
    salience = np.zeros((3, 360), dtype=np.float32)
    salience[0, 99:102] = [0.5, 1.0, 0.5]  # symmetric: the centre bin, 100
    salience[1, 0] = 0.03  # at the threshold: unvoiced
    salience[2, 200:202] = [0.9, 0.9]  # between bins 200 and 201
    f0 = decode_salience(salience)
    assert f0[0] == pytest.approx(100.641, abs=0.001)
    assert f0[1] == 0.0
    assert f0[2] == pytest.approx(10 * 2 ** ((20 * 200.5 + 1997.3794084376191) / 1200), rel=1e-5)


def test_mel_filters_are_librosa_htk_slaney() -> None:
    filters = mel_filterbank()
    assert filters.shape == (128, 513)
    # HTK mel of RMVPE's fmin 30 Hz and fmax 8000 Hz (librosa.hz_to_mel(..., htk=True)).
    assert hz_to_mel([30.0, 8000.0]).tolist() == pytest.approx([47.2934, 2840.0230], abs=1e-3)
    assert (filters >= 0).all() and (filters.sum(axis=1) > 0).all()
    # Nothing below 30 Hz: bin 0 is 0 Hz, bin 1 is 15.6 Hz.
    assert filters[:, :2].sum() == 0.0


def test_log_mel_frames_and_padding() -> None:
    audio = np.zeros(16_000, dtype=np.float32)
    mel = log_mel(audio, mel_filterbank())
    # torch.stft(center=True, hop 160): 1 + len // 160 frames; silence is log(1e-5).
    assert mel.shape == (128, 101)
    assert mel.max() == pytest.approx(np.log(1e-5))
    assert pad_frames(mel).shape == (128, 128)  # mel2hidden: next multiple of 32
    assert pad_frames(mel[:, :64]).shape == (128, 64)


def test_log_mel_peaks_at_a_tone() -> None:
    t = np.arange(16_000) / 16_000
    mel = log_mel(np.sin(2 * np.pi * 1000 * t).astype(np.float32), mel_filterbank())
    centres = np.argmax(mel_filterbank(), axis=1) * 16_000 / 1024
    assert abs(centres[int(np.argmax(mel[:, 50]))] - 1000) < 60
