"""RVC's content side: the input high-pass, index retrieval, doubling and ``protect``.

Written to match RVC-Project/Retrieval-based-Voice-Conversion-WebUI's
``infer/modules/vc/pipeline.py``:

- the input goes through ``signal.filtfilt`` of a 5th-order Butterworth
  high-pass at 48 Hz; filtfilt's response is the filter's squared magnitude
  with no phase, applied here in the frequency domain (scipy is not a
  dependency), so only the edges differ (filtfilt pads them);
- retrieval (``index_rate`` > 0): each 768-d frame's 8 nearest bank vectors by
  squared L2 distance (what faiss's flat and IVF indexes return), weighted by
  ``1 / d²`` and normalised, mixed in at ``index_rate``;
- the frames are doubled (``F.interpolate(scale_factor=2)``, nearest): the
  encoder's 20 ms frames become the synthesizer's 10 ms, one per F0 frame;
- ``protect`` < 0.5 keeps that share of the unretrieved features on unvoiced
  frames (consonants, breaths), which retrieval would smear.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from visiovox.engines.voice.rvc_pitch import SAMPLE_RATE

HIGHPASS_HZ = 48.0
HIGHPASS_ORDER = 5
NEIGHBOURS = 8
# Bank rows compared per step: bounds the distance matrix at 8,192 x frames floats.
_BANK_BLOCK = 8192

FloatArray = npt.NDArray[np.float32]


def highpass(audio: FloatArray) -> FloatArray:
    """``audio`` (16 kHz) through the zero-phase 48 Hz Butterworth high-pass RVC applies."""
    spectrum = np.fft.rfft(audio.astype(np.float64))
    freqs = np.fft.rfftfreq(len(audio), d=1.0 / SAMPLE_RATE)
    warped = np.tan(np.pi * freqs / SAMPLE_RATE)
    cutoff = np.tan(np.pi * HIGHPASS_HZ / SAMPLE_RATE)
    with np.errstate(divide="ignore"):
        ratio = np.where(warped > 0, cutoff / np.maximum(warped, 1e-300), np.inf)
    gain = 1.0 / (1.0 + ratio ** (2 * HIGHPASS_ORDER))  # |H|^2: filtfilt runs it twice
    return np.fft.irfft(spectrum * gain, n=len(audio)).astype(np.float32)


def retrieve(feats: FloatArray, bank: FloatArray, *, index_rate: float) -> FloatArray:
    """``feats`` (T, 768) mixed at ``index_rate`` with their 8 nearest bank vectors' blend."""
    if index_rate <= 0 or len(bank) == 0:
        return feats
    k = min(NEIGHBOURS, len(bank))
    best_d = np.full((len(feats), k), np.inf, dtype=np.float32)
    best_i = np.zeros((len(feats), k), dtype=np.int64)
    norms = (feats.astype(np.float32) ** 2).sum(axis=1, keepdims=True)
    for start in range(0, len(bank), _BANK_BLOCK):
        block = bank[start : start + _BANK_BLOCK].astype(np.float32)
        dist = norms - 2.0 * (feats @ block.T) + (block**2).sum(axis=1)[None, :]
        nearest = np.argpartition(dist, k - 1, axis=1)[:, :k] if len(block) > k else None
        if nearest is None:
            nearest = np.broadcast_to(np.arange(len(block)), (len(feats), len(block)))
        all_d = np.concatenate([best_d, np.take_along_axis(dist, nearest, axis=1)], axis=1)
        all_i = np.concatenate([best_i, start + nearest], axis=1)
        keep = np.argpartition(all_d, k - 1, axis=1)[:, :k]
        best_d = np.take_along_axis(all_d, keep, axis=1)
        best_i = np.take_along_axis(all_i, keep, axis=1)
    best_d = np.maximum(best_d.astype(np.float64), 0.0)
    # RVC divides by the raw distance; a frame equal to a bank vector would be 1/0.
    weight = np.square(1.0 / np.maximum(best_d, 1e-12))
    weight /= weight.sum(axis=1, keepdims=True)
    blended = (bank[best_i].astype(np.float64) * weight[:, :, None]).sum(axis=1)
    mixed = blended * index_rate + (1.0 - index_rate) * feats.astype(np.float64)
    return np.asarray(mixed, dtype=np.float32)


def double_frames(feats: FloatArray) -> FloatArray:
    """(T, C) to (2T, C), each frame repeated: nearest interpolation by 2 along time."""
    return np.repeat(feats, 2, axis=0)


def protect_unvoiced(
    feats: FloatArray, original: FloatArray, pitchf: FloatArray, *, protect: float
) -> FloatArray:
    """Voiced frames keep ``feats``; the others mix in ``1 - protect`` of ``original``."""
    if protect >= 0.5:
        return feats
    # RVC sets 1 where pitchf > 0, then ``protect`` where pitchf < 1.
    mask = np.where(pitchf < 1, protect, 1.0).astype(np.float32)
    return (feats * mask[:, None] + original * (1.0 - mask[:, None])).astype(np.float32)
