"""Speech for the voice-conversion tests: Piper joe, other "speakers", and a second F0 estimator.

A different speaker is joe played faster or slower (tape speed: pitch and
formants move together, as between a larger and a smaller vocal tract), which
is a different method from the engine's PSOLA. ``yin_median_f0`` is YIN (de
Cheveigné & Kawahara 2002), not Praat's autocorrelation, so a converted
voice's pitch is checked by an estimator the engine does not use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from visiovox.config import Settings
from visiovox.engines.pool import EnginePool
from visiovox.media.audio import encode_audio
from visiovox.models.cache import prepare_model
from visiovox.models.manifest import get_manifest

PIPER_RATE = 22_050
YIN_RATE = 16_000
YIN_FLOOR_HZ, YIN_CEILING_HZ = 50.0, 600.0
YIN_THRESHOLD = 0.15
HOP_S = 0.01
# Frames quieter than this share of the loudest frame count as silence.
QUIET = 0.1


def piper_speech(pool: EnginePool, text: str) -> npt.NDArray[np.float32]:
    """``text`` spoken by Piper joe at 22.05 kHz, the same samples on every run.

    Piper samples noise for its prosody and durations, so the engine's speech
    differs from run to run (once, in CI, enough to land a converted pitch
    1.51 semitones off its reference); without that noise a test's input is fixed.
    """
    return fixed_speech(pool.settings, text)


def fixed_speech(settings: Settings, text: str) -> npt.NDArray[np.float32]:
    """``piper_speech`` with the model cache of ``settings`` (no engine pool needed)."""
    from piper import PiperVoice, SynthesisConfig

    model_id = get_manifest(settings).voices("tts.piper")[settings.tts.voice]
    model = next(prepare_model(settings, model_id).glob("*.onnx"))
    voice = PiperVoice.load(model)
    fixed = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    return np.concatenate(
        [chunk.audio_float_array for chunk in voice.synthesize(text, fixed)]
    ).astype(np.float32)


def tape_speed(samples: npt.NDArray[np.float32], factor: float) -> npt.NDArray[np.float32]:
    """``samples`` played ``factor`` times faster: pitch and formants times ``factor``."""
    count = int(len(samples) / factor)
    positions = np.arange(count) * factor
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


def write_wav(samples: npt.NDArray[np.float32], path: Path, *, rate: int = PIPER_RATE) -> Path:
    encode_audio(samples, sample_rate=rate, fmt="wav", path=path)
    return path


def semitones(a_hz: float, b_hz: float) -> float:
    """How far ``b_hz`` lies from ``a_hz``, in semitones (signed)."""
    return float(12.0 * np.log2(b_hz / a_hz))


def yin_median_f0(samples: npt.NDArray[np.float32], *, rate: int) -> float:
    """The median F0 (Hz) of the voiced frames of ``samples``, by YIN."""
    x = np.interp(
        np.arange(int(len(samples) * YIN_RATE / rate)) * rate / YIN_RATE,
        np.arange(len(samples)),
        samples,
    )
    window = int(YIN_RATE / YIN_FLOOR_HZ)
    shortest = int(YIN_RATE / YIN_CEILING_HZ)
    hop = int(YIN_RATE * HOP_S)
    starts = np.arange(0, len(x) - 2 * window, hop)
    frames = np.stack([x[s : s + 2 * window] for s in starts])
    loudness = np.sqrt(np.mean(frames[:, :window] ** 2, axis=1))
    size = 4 * window
    head = np.fft.rfft(frames[:, :window], size)
    whole = np.fft.rfft(frames, size)
    cross = np.fft.irfft(np.conj(head) * whole, size)[:, : window + 1]
    squares = np.cumsum(np.pad(frames**2, ((0, 0), (1, 0))), axis=1)
    lags = np.arange(window + 1)
    energy = squares[:, lags + window] - squares[:, lags]
    difference = squares[:, window : window + 1] + energy - 2 * cross
    running = np.cumsum(difference[:, 1:], axis=1)
    normalised = np.ones_like(difference)
    normalised[:, 1:] = difference[:, 1:] * lags[1:] / np.maximum(running, 1e-12)
    found: list[float] = []
    for row, level in zip(normalised, loudness, strict=True):
        if level < QUIET * loudness.max():
            continue
        below = np.flatnonzero(row[shortest:window] < YIN_THRESHOLD)
        if below.size == 0:
            continue
        lag = shortest + int(below[0])
        while lag + 1 < window and row[lag + 1] < row[lag]:
            lag += 1
        found.append(YIN_RATE / _parabolic(row, lag))
    return float(np.median(found))


def _parabolic(row: npt.NDArray[np.float64], lag: int) -> float:
    """The lag of the minimum between samples, from a parabola through three points."""
    a, b, c = row[lag - 1], row[lag], row[lag + 1] if lag + 1 < len(row) else row[lag]
    bend = a - 2 * b + c
    return lag + (0.5 * (a - c) / bend if bend > 0 else 0.0)
