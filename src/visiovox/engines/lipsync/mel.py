"""Wav2Lip's mel spectrogram in numpy: the features its audio encoder was trained on.

Wav2Lip (``audio.py`` and ``hparams.py`` of Rudrabha/Wav2Lip) computes, on 16 kHz
mono: pre-emphasis 0.97; an STFT with n_fft 800, hop 200 and an 800-sample
periodic Hann window, centred with reflect padding (librosa 0.7's ``stft``); 80
mel bands 55–7600 Hz on the Slaney scale with Slaney area normalisation
(librosa's ``filters.mel`` default); amplitude to dB with a -100 dB floor, minus
the 20 dB reference level; then the symmetric normalisation to [-4, 4]. One mel
frame covers 12.5 ms, so a second of audio is 80 frames.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
PREEMPHASIS = 0.97
N_FFT, HOP, WIN = 800, 200, 800
N_MELS, FMIN, FMAX = 80, 55.0, 7600.0
MIN_LEVEL_DB, REF_LEVEL_DB, MAX_ABS_VALUE = -100.0, 20.0, 4.0
MEL_FRAMES_PER_SECOND = SAMPLE_RATE / HOP

Array = npt.NDArray[np.float64]

# The Slaney mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above.
_F_SP = 200.0 / 3.0
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = np.log(6.4) / 27.0


def hz_to_mel(hz: Array) -> Array:
    """Frequencies in Hz on the Slaney mel scale."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / _F_SP
    logarithmic = _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
    return np.where(hz >= _MIN_LOG_HZ, logarithmic, linear)


def mel_to_hz(mel: Array) -> Array:
    """The inverse of ``hz_to_mel``."""
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * _F_SP
    logarithmic = _MIN_LOG_HZ * np.exp(_LOG_STEP * (mel - _MIN_LOG_MEL))
    return np.where(mel >= _MIN_LOG_MEL, logarithmic, linear)


def mel_filterbank(
    *,
    sample_rate: int = SAMPLE_RATE,
    n_fft: int = N_FFT,
    n_mels: int = N_MELS,
    fmin: float = FMIN,
    fmax: float = FMAX,
) -> Array:
    """Triangular filters (n_mels × (n_fft/2 + 1)), each of unit area in Hz (Slaney norm)."""
    fft_freqs = np.linspace(0.0, sample_rate / 2.0, 1 + n_fft // 2)
    edges = mel_to_hz(np.linspace(hz_to_mel(np.array(fmin)), hz_to_mel(np.array(fmax)), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]


_FILTERBANK = mel_filterbank()
# Periodic Hann (scipy's get_window("hann", 800, fftbins=True), which librosa uses).
_WINDOW = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(WIN) / WIN)


def stft_magnitude(samples: Array) -> Array:
    """|STFT| (n_fft/2 + 1 × frames), centred frames with reflect padding."""
    pad = N_FFT // 2
    padded = np.pad(samples, pad, mode="reflect") if len(samples) > pad else np.pad(samples, pad)
    count = 1 + (len(padded) - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(count)[:, None]
    frames = padded[index] * _WINDOW
    return np.abs(np.fft.rfft(frames, n=N_FFT, axis=1)).T


def wav2lip_mel(samples: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """The normalised mel spectrogram (80 × frames) of 16 kHz mono ``samples``."""
    wav = np.asarray(samples, dtype=np.float64)
    emphasised = np.append(wav[:1], wav[1:] - PREEMPHASIS * wav[:-1])
    mel = _FILTERBANK @ stft_magnitude(emphasised)
    min_level = np.exp(MIN_LEVEL_DB / 20.0 * np.log(10.0))
    db = 20.0 * np.log10(np.maximum(min_level, mel)) - REF_LEVEL_DB
    scaled = 2.0 * MAX_ABS_VALUE * (db - MIN_LEVEL_DB) / -MIN_LEVEL_DB - MAX_ABS_VALUE
    return np.asarray(np.clip(scaled, -MAX_ABS_VALUE, MAX_ABS_VALUE), dtype=np.float32)


def mel_window(
    mel: npt.NDArray[np.float32], *, frame: int, fps: float, steps: int = 16
) -> npt.NDArray[np.float32]:
    """The ``steps``-frame mel window of video frame ``frame``: from ``int(frame·80/fps)``.

    Past the end Wav2Lip takes the last ``steps`` mel frames; a mel shorter than
    ``steps`` is padded with its quietest value.
    """
    if mel.shape[1] < steps:
        mel = np.pad(mel, ((0, 0), (0, steps - mel.shape[1])), constant_values=-MAX_ABS_VALUE)
    start = int(frame * MEL_FRAMES_PER_SECOND / fps)
    start = min(start, mel.shape[1] - steps)
    return mel[:, start : start + steps]
