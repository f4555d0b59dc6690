"""RVC's pitch side: RMVPE's log-mel input, its salience decoding, F0 to coarse pitch.

Written to match RVC-Project/Retrieval-based-Voice-Conversion-WebUI:
``infer/lib/rmvpe.py`` (``MelSpectrogram(is_half, 128, 16000, 1024, 160, None,
30, 8000)``: librosa's HTK mel filters, a centred reflect-padded STFT with a
periodic Hann window, ``log(clamp(mel, 1e-5))``; ``mel2hidden`` pads the frames
to a multiple of 32; ``decode`` is the local average of the cents around the
salience peak, 0 Hz where the peak is at or under ``thred`` 0.03) and
``infer/modules/vc/pipeline.py``'s ``get_f0`` (the key shift, then F0 to the
mel scale between 50 and 1100 Hz, mapped to 1..255 and rounded).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
# One F0 frame (and, after doubling, one content frame) per 160 samples: 10 ms.
HOP = 160
N_FFT = 1024
MEL_BINS = 128
MEL_FMIN = 30.0
MEL_FMAX = 8_000.0
LOG_CLAMP = 1e-5
FRAME_MULTIPLE = 32
SALIENCE_BINS = 360
CENTS_OFFSET = 1997.3794084376191
CENTS_STEP = 20.0
THRESHOLD = 0.03
F0_MIN = 50.0
F0_MAX = 1100.0
COARSE_MAX = 255

FloatArray = npt.NDArray[np.float32]


def hz_to_mel(hz: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The HTK mel scale (``2595 log10(1 + f / 700)``), librosa's ``htk=True``."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel: npt.ArrayLike) -> npt.NDArray[np.float64]:
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank() -> FloatArray:
    """librosa.filters.mel(sr=16000, n_fft=1024, n_mels=128, fmin=30, fmax=8000, htk=True).

    Triangles between adjacent mel points, each scaled to unit area (librosa's
    default ``norm="slaney"``): shape (128, 513).
    """
    fft_hz = np.linspace(0.0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    mel_hz = mel_to_hz(np.linspace(hz_to_mel(MEL_FMIN), hz_to_mel(MEL_FMAX), MEL_BINS + 2))
    widths = np.diff(mel_hz)
    ramps = mel_hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_hz[2:] - mel_hz[:-2]))[:, None]
    return weights.astype(np.float32)


def log_mel(audio: FloatArray, filters: FloatArray) -> FloatArray:
    """RMVPE's input for 16 kHz ``audio``: (128, 1 + len // 160) natural-log mel magnitudes."""
    padded = np.pad(audio.astype(np.float32), N_FFT // 2, mode="reflect")
    frames = 1 + (len(padded) - N_FFT) // HOP
    starts = np.arange(frames) * HOP
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    spectrum = np.abs(np.fft.rfft(padded[starts[:, None] + np.arange(N_FFT)] * window, axis=1))
    mel = filters @ spectrum.T.astype(np.float32)
    return np.log(np.maximum(mel, LOG_CLAMP)).astype(np.float32)


def pad_frames(mel: FloatArray) -> FloatArray:
    """``mel`` (128, T) zero-padded on the right to a multiple of 32 frames, as RMVPE needs."""
    frames = mel.shape[-1]
    padding = FRAME_MULTIPLE * ((frames - 1) // FRAME_MULTIPLE + 1) - frames
    return np.pad(mel, ((0, 0), (0, padding))) if padding > 0 else mel


def decode_salience(salience: FloatArray, *, threshold: float = THRESHOLD) -> FloatArray:
    """F0 in Hz from RMVPE's (T, 360) salience; 0 where the frame's peak is ``<= threshold``."""
    cents_mapping = np.pad(CENTS_STEP * np.arange(SALIENCE_BINS) + CENTS_OFFSET, (4, 4))
    padded = np.pad(salience.astype(np.float64), ((0, 0), (4, 4)))
    window = np.argmax(salience, axis=1)[:, None] + np.arange(9)
    weights = np.take_along_axis(padded, window, axis=1)
    cents = (weights * cents_mapping[window]).sum(axis=1) / weights.sum(axis=1)
    cents[padded.max(axis=1) <= threshold] = 0.0
    f0: npt.NDArray[np.float64] = 10.0 * 2.0 ** (cents / 1200.0)
    f0[f0 == 10.0] = 0.0
    return f0.astype(np.float32)


def shift_f0(f0: FloatArray, semitones: float) -> FloatArray:
    """``f0`` moved by ``semitones`` (RVC's ``f0_up_key``); unvoiced frames stay 0."""
    return np.asarray(f0 * 2.0 ** (semitones / 12.0), dtype=np.float32)


def coarse_pitch(f0: FloatArray) -> npt.NDArray[np.int64]:
    """The synthesizer's ``pitch`` input: F0 on the mel scale, 50..1100 Hz mapped to 1..255."""
    mel_min, mel_max = 1127.0 * np.log(1.0 + np.array([F0_MIN, F0_MAX]) / 700.0)
    f0_mel = 1127.0 * np.log(1.0 + f0.astype(np.float64) / 700.0)
    voiced = f0_mel > 0
    f0_mel[voiced] = (f0_mel[voiced] - mel_min) * (COARSE_MAX - 1) / (mel_max - mel_min) + 1
    f0_mel[f0_mel <= 1] = 1
    f0_mel[f0_mel > COARSE_MAX] = COARSE_MAX
    return np.rint(f0_mel).astype(np.int64)
