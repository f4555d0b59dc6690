"""RVC's content side (infer/modules/vc/pipeline.py, ``Pipeline.vc``) in numpy."""

from __future__ import annotations

import numpy as np
import pytest

from visiovox.engines.voice.rvc_features import (
    double_frames,
    highpass,
    protect_unvoiced,
    retrieve,
)


def test_frames_are_doubled_nearest() -> None:
    feats = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert double_frames(feats).tolist() == [[0, 1], [0, 1], [2, 3], [2, 3], [4, 5], [4, 5]]


def test_retrieval_weights_the_8_nearest_by_inverse_square_distance() -> None:
    rng = np.random.default_rng(0)
    bank = rng.standard_normal((5000, 768)).astype(np.float32)
    feats = rng.standard_normal((4, 768)).astype(np.float32)
    mixed = retrieve(feats, bank, index_rate=0.75)
    # Reference: faiss's IndexFlatL2 search(k=8) gives squared L2 distances; then as RVC does.
    dist = ((feats[:, None, :].astype(np.float64) - bank[None]) ** 2).sum(axis=2)
    ix = np.argsort(dist, axis=1)[:, :8]
    score = np.take_along_axis(dist, ix, axis=1)
    weight = np.square(1 / score)
    weight /= weight.sum(axis=1, keepdims=True)
    npy = np.sum(bank[ix] * np.expand_dims(weight, axis=2), axis=1)
    expected = npy * 0.75 + 0.25 * feats
    assert mixed == pytest.approx(expected.astype(np.float32), abs=1e-4)
    assert retrieve(feats, bank, index_rate=0.0) is feats


def test_a_frame_in_the_bank_is_not_a_division_by_zero() -> None:
    bank = np.eye(10, 768, dtype=np.float32)
    mixed = retrieve(bank[:2].copy(), bank, index_rate=1.0)
    assert np.isfinite(mixed).all()
    assert mixed == pytest.approx(bank[:2], abs=1e-6)


def test_protect_keeps_original_features_on_unvoiced_frames() -> None:
    feats = np.ones((4, 2), dtype=np.float32)
    original = np.zeros((4, 2), dtype=np.float32)
    pitchf = np.array([0.0, 0.5, 1.0, 220.0], dtype=np.float32)
    # pitchff = 1 where pitchf > 0, then protect where pitchf < 1 (RVC's order).
    mixed = protect_unvoiced(feats, original, pitchf, protect=0.33)
    assert mixed[:, 0].tolist() == pytest.approx([0.33, 0.33, 1.0, 1.0])
    assert protect_unvoiced(feats, original, pitchf, protect=0.5) is feats


def test_highpass_removes_rumble_and_keeps_speech_band() -> None:
    t = np.arange(32_000) / 16_000
    rumble = np.sin(2 * np.pi * 20 * t).astype(np.float32)
    voice = np.sin(2 * np.pi * 200 * t).astype(np.float32)
    # A 5th-order Butterworth at 48 Hz, run forwards and backwards: |H(20 Hz)|^2 ~ 1e-4.
    assert np.abs(highpass(rumble)[4000:-4000]).max() < 0.01
    assert np.abs(highpass(voice)[4000:-4000]).max() == pytest.approx(1.0, abs=0.01)
