"""Mouth shape per video frame from speech: how far open, and how rounded or spread.

Opening follows the energy envelope: the RMS of a window around each frame's
time, in dB, mapped from a floor ``DYNAMIC_RANGE_DB`` under the speech's loud
frames (closed) to those loud frames (fully open). Frames under the floor, or
under an absolute silence level, are closed. Rounding comes from the spectrum:
rounded vowels (o, u) put their energy low, spread ones (i, e) and sibilants
high, so the spectral centroid of 300–4000 Hz, relative to the utterance's
median, gives a value in [-1 (spread), 1 (rounded)]. Both tracks are smoothed
over time (fast to open, slower to close) so the mouth does not jitter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visiovox.errors import PipelineError

# Below this RMS (about -54 dBFS) a window is silence whatever the rest is like.
SILENCE_RMS = 2e-3
DYNAMIC_RANGE_DB = 30.0
# The level counted as "fully open": this percentile of the speaking frames.
LOUD_PERCENTILE = 90.0
# Smoothing factors per frame at 25 fps: share of the step taken towards the target.
ATTACK, RELEASE = 0.7, 0.45
BAND_HZ = (300.0, 4000.0)
SETTLED = 0.02

Track = npt.NDArray[np.float32]


@dataclass(frozen=True)
class MouthTrack:
    """Per video frame: ``opening`` in [0, 1] and ``rounding`` in [-1, 1]."""

    opening: Track
    rounding: Track
    fps: float

    def __len__(self) -> int:
        return len(self.opening)


def frame_rms(
    samples: npt.NDArray[np.floating], *, sample_rate: int, fps: float, frames: int
) -> Track:
    """RMS of a window 1.5 frames wide centred on each video frame's mid time."""
    half = max(1, round(0.75 * sample_rate / fps))
    centres = ((np.arange(frames) + 0.5) * sample_rate / fps).astype(np.int64)
    squares = np.concatenate([[0.0], np.cumsum(np.asarray(samples, dtype=np.float64) ** 2)])
    starts = np.clip(centres - half, 0, len(samples))
    ends = np.clip(centres + half, 0, len(samples))
    energy = (squares[ends] - squares[starts]) / np.maximum(1, ends - starts)
    return np.asarray(np.sqrt(energy), dtype=np.float32)


def mouth_track(
    samples: npt.NDArray[np.floating], *, sample_rate: int, fps: float, frames: int
) -> MouthTrack:
    """The smoothed mouth shape of every frame; speechless audio is a ``no_speech`` error."""
    rms = frame_rms(samples, sample_rate=sample_rate, fps=fps, frames=frames)
    speaking = rms > SILENCE_RMS
    if not speaking.any():
        raise PipelineError("no_speech", "the audio holds no speech (it is silent or too quiet)")
    db = 20.0 * np.log10(np.maximum(rms, 1e-9))
    loud = float(np.percentile(db[speaking], LOUD_PERCENTILE))
    target = np.clip((db - (loud - DYNAMIC_RANGE_DB)) / DYNAMIC_RANGE_DB, 0.0, 1.0)
    target = np.where(speaking, target, 0.0) ** 1.5
    rounding = _rounding(samples, sample_rate=sample_rate, fps=fps, frames=frames) * (target > 0)
    scale = 25.0 / fps  # the factors are tuned at 25 fps
    return MouthTrack(
        opening=_smooth(target, attack=ATTACK**scale, release=RELEASE**scale),
        rounding=_smooth(rounding, attack=0.5**scale, release=0.5**scale),
        fps=fps,
    )


def _smooth(target: npt.NDArray[np.floating], *, attack: float, release: float) -> Track:
    """One-pole smoothing, faster when rising than when falling."""
    out = np.empty(len(target), dtype=np.float32)
    level = 0.0
    for index, value in enumerate(target):
        rate = attack if value > level else release
        level += rate * (float(value) - level)
        if value == 0.0 and abs(level) < SETTLED:
            level = 0.0  # silence ends at exactly closed, not forever nearly so
        out[index] = level
    return out


def _rounding(
    samples: npt.NDArray[np.floating], *, sample_rate: int, fps: float, frames: int
) -> Track:
    """Spectral-centroid rounding estimate per frame, in [-1, 1]."""
    size = 1 << int(np.ceil(np.log2(max(64, sample_rate / fps))))
    freqs = np.fft.rfftfreq(size, 1.0 / sample_rate)
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    centres = ((np.arange(frames) + 0.5) * sample_rate / fps).astype(np.int64)
    padded = np.pad(np.asarray(samples, dtype=np.float32), size)
    index = centres[:, None] + np.arange(size)[None, :] + size // 2
    index = np.clip(index, 0, len(padded) - 1)
    spectra = np.abs(np.fft.rfft(padded[index] * np.hanning(size), axis=1))[:, band]
    power = spectra.sum(axis=1)
    centroid = (spectra * freqs[band]).sum(axis=1) / np.maximum(power, 1e-9)
    log_centroid = np.log(np.maximum(centroid, 1.0))
    voiced = power > 0.05 * power.max()
    median = float(np.median(log_centroid[voiced])) if voiced.any() else 0.0
    return np.asarray(np.clip(-(log_centroid - median) / 0.5, -1.0, 1.0), dtype=np.float32)
