"""Resample mono float32 audio in memory with FFmpeg's resampler (PyAV)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from visiovox.media._av import av

Samples = npt.NDArray[np.float32]
# Samples handed to the resampler per call, so a long input is never one huge frame.
_SLICE = 1 << 16


def resample(samples: Samples, *, rate: int, to: int) -> Samples:
    """``samples`` (mono, float32) at ``rate`` converted to ``to`` Hz."""
    mono = np.ascontiguousarray(samples, dtype=np.float32)
    if rate == to or len(mono) == 0:
        return mono
    resampler = av.AudioResampler(format="flt", layout="mono", rate=to)
    pieces: list[Samples] = []
    for start in range(0, len(mono), _SLICE):
        frame = av.AudioFrame.from_ndarray(
            mono[None, start : start + _SLICE], format="flt", layout="mono"
        )
        frame.sample_rate = rate
        pieces.extend(_flat(out) for out in resampler.resample(frame))
    pieces.extend(_flat(out) for out in resampler.resample(None))
    return np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)


def _flat(frame: av.AudioFrame) -> Samples:
    return np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1)
