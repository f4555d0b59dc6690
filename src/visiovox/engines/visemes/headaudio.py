"""HeadAudio's audio → viseme classifier, its inference ported to numpy.

HeadAudio (``@met4citizen/headaudio`` 0.1.0 on npm, MIT, © 2025 Mika Suominen;
``visiovox/assets/LICENSE.headaudio``) detects visemes in a browser's
AudioWorklet: pre-emphasis (0.97), a 32-tap polyphase resampler to 16 kHz, a
512-sample Hamming window every 256 samples, 40 mel bands (30–7800 Hz), 12
liftered MFCCs squashed by ``tanh``, an energy gate (speech above -40 dB,
silence below -50 dB), then the Mahalanobis distance to each of 39 Gaussian
prototypes of its model (``model-en-mixed.bin``, trained on Kokoro voices
reading the Harvard sentences), the nearest one's viseme voted over the last 6
windows. This module follows its ``processor.mjs``, ``mfcc.mjs``,
``vadgate.mjs`` and ``classifier.mjs`` step for step, with one change of form:
the whole signal is processed at once rather than in 128-sample quanta, which
gives the same windows. The JavaScript stores most intermediates as float32
where this port keeps float64, so a distance within rounding of a tie may pick
the other prototype; ``tests/unit/engines/visemes/test_headaudio_js.py`` runs
the package's own bundle under node on the same audio and compares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

RATE: Final = 16_000
WINDOW: Final = 512
HOP: Final = 256
MEL_BANDS: Final = 40
COEFFICIENTS: Final = 12
LIFTER: Final = 22
PREEMPHASIS: Final = 0.97
FILTER_TAPS: Final = 32
FILTER_PHASES: Final = 64
FILTER_CUTOFF: Final = 0.45
# The energy gate's levels, log10 of the window's power: -40 dB and -50 dB.
SPEECH_LEVEL: Final = -4.0
SILENCE_LEVEL: Final = -5.0
SILENCE_SENSITIVITY: Final = 1.2
VOTES: Final = 6
# The model's viseme numbers, in HeadAudio's order (``headaudio.mjs``'s visemeNames).
MODEL_VISEMES: Final = (
    "aa",
    "E",
    "I",
    "O",
    "U",
    "PP",
    "SS",
    "TH",
    "DD",
    "FF",
    "kk",
    "nn",
    "RR",
    "CH",
    "sil",
)
SILENCE_ID: Final = 14
BATCH_WINDOWS: Final = 2048
BATCH_SAMPLES: Final = 1 << 20
RECORD_BYTES: Final = 4 * (2 + COEFFICIENTS + COEFFICIENTS * (COEFFICIENTS + 1) // 2)


@dataclass(frozen=True)
class Prototypes:
    """The model: per prototype, its viseme number, mean and inverse covariance."""

    visemes: npt.NDArray[np.int64]
    means: npt.NDArray[np.float32]  # prototypes x 12
    precisions: npt.NDArray[np.float64]  # prototypes x 12 x 12, symmetric

    @classmethod
    def read(cls, path: Path) -> Prototypes:
        """Parse HeadAudio's binary model (``training.mjs``'s ``decodeBinaryRecord``)."""
        data = path.read_bytes()
        count = len(data) // RECORD_BYTES
        if count == 0:
            raise ValueError(f"{path.name} holds no HeadAudio prototype")
        records = np.frombuffer(data[: count * RECORD_BYTES], dtype=np.uint8).reshape(count, -1)
        floats = records[:, 8:].copy().view("<f4")
        lower = floats[:, COEFFICIENTS:].astype(np.float64)
        rows, cols = np.tril_indices(COEFFICIENTS)
        precisions = np.zeros((count, COEFFICIENTS, COEFFICIENTS))
        precisions[:, rows, cols] = lower
        precisions[:, cols, rows] = lower
        return cls(
            visemes=records[:, 7].astype(np.int64),
            means=np.ascontiguousarray(floats[:, :COEFFICIENTS]),
            precisions=precisions,
        )


@dataclass(frozen=True)
class VisemeEvent:
    """One window's decision while speaking: ``viseme`` (a name) centred at ``t_s``."""

    t_s: float
    viseme: str


def _f32(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Values rounded through float32, as a ``Float32Array`` store does."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def _resampler_phases() -> npt.NDArray[np.float64]:
    """The polyphase low-pass table (``processor.mjs``'s ``designPolyphaseFilter``)."""
    taps = np.arange(FILTER_TAPS)
    hamming = 0.54 - 0.46 * np.cos(2 * np.pi * taps / (FILTER_TAPS - 1))
    table = np.empty((FILTER_PHASES, FILTER_TAPS))
    for phase in range(FILTER_PHASES):
        x = taps - (FILTER_TAPS - 1) / 2 - phase / FILTER_PHASES
        with np.errstate(invalid="ignore", divide="ignore"):
            sinc = np.where(
                x == 0, 2 * FILTER_CUTOFF, np.sin(2 * np.pi * FILTER_CUTOFF * x) / (np.pi * x)
            )
        table[phase] = _f32(_f32(sinc) * hamming)
    return table


def _mel_filters() -> npt.NDArray[np.float64]:
    """Triangular mel filters over the first 256 bins (``mfcc.mjs``, speaker mean 150 Hz)."""

    def mel(hz: float) -> float:
        return 2595 * math.log10(1 + hz / 700)

    low, high = mel(30), mel(7800)
    points = _f32(
        [
            700 * (10 ** ((low + (high - low) / (MEL_BANDS + 1) * i) / 2595) - 1)
            for i in range(MEL_BANDS + 2)
        ]
    )
    bins = np.floor(points / RATE * WINDOW).astype(np.int64)
    filters = np.zeros((MEL_BANDS, WINDOW // 2))
    for band in range(MEL_BANDS):
        left, centre, right = bins[band], bins[band + 1], bins[band + 2]
        for k in range(left, centre):
            filters[band, k] = (k - left) / (centre - left)
        for k in range(centre, right):
            filters[band, k] = (right - k) / (right - centre)
    return _f32(filters)


def _dct_lifter() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The DCT rows 1-12 (c0 skipped) times the lifter, one matrix: 12 x 40."""
    rows = np.arange(1, COEFFICIENTS + 1)[:, None]
    bands = np.arange(MEL_BANDS)[None, :]
    dct = _f32(math.sqrt(2 / MEL_BANDS) * np.cos(np.pi * rows * (bands + 0.5) / MEL_BANDS))
    lifter = _f32(1 + (LIFTER / 2) * np.sin(np.pi * np.arange(1, COEFFICIENTS + 1) / LIFTER))
    return dct, lifter


RESAMPLER: Final = _resampler_phases()
MEL_FILTERS: Final = _mel_filters()
DCT, LIFTERS = _dct_lifter()
WINDOW_FUNCTION: Final = _f32(0.54 - 0.46 * np.cos(2 * np.pi * np.arange(WINDOW) / (WINDOW - 1)))


def to_model_rate(samples: npt.NDArray[np.floating], sample_rate: int) -> npt.NDArray[np.float32]:
    """Pre-emphasised and resampled to 16 kHz, as the worklet does sample by sample.

    At 16 kHz the worklet still runs the filter's phase 0 (a low-pass) on every
    sample. The output is float32, as the worklet's analysis block stores it;
    it is made in batches, so an hour of 16 kHz audio needs no float64 copy
    (other rates plan every step at once: the pipelines hear uploads at 16 kHz).
    """
    x = np.asarray(samples, dtype=np.float32)
    steps = None if sample_rate == RATE else _resampling_steps(len(x), sample_rate)
    count = len(x) if steps is None else len(steps[0])
    out = np.empty(count, dtype=np.float32)
    for first in range(0, count, BATCH_SAMPLES):
        last = min(count, first + BATCH_SAMPLES)
        if steps is None:
            sources = np.arange(first, last)
            phases = np.zeros(last - first, dtype=np.int64)
        else:
            sources, phases = steps[0][first:last], steps[1][first:last]
        low = int(sources[0]) - (FILTER_TAPS - 1)
        history = _emphasised(x, low, int(sources[-1]) + 1)
        window_start = sources - (FILTER_TAPS - 1) - low
        acc = np.zeros(last - first)
        for tap in range(FILTER_TAPS):
            acc += history[window_start + tap] * RESAMPLER[phases, tap]
        out[first:last] = acc
    return out


def _emphasised(x: npt.NDArray[np.float32], low: int, high: int) -> npt.NDArray[np.float64]:
    """Samples ``low`` to ``high`` after pre-emphasis, zeros before the first."""
    index = np.arange(low, high)

    def at(offsets: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        values = x[np.clip(offsets, 0, max(0, len(x) - 1))].astype(np.float64)
        return np.where(offsets >= 0, values, 0.0)

    return at(index) - PREEMPHASIS * at(index - 1)


def _resampling_steps(
    count: int, sample_rate: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For each 16 kHz sample: the input sample it follows, and the filter phase it takes."""
    step = 1 / (sample_rate / RATE)
    sources: list[int] = []
    phases: list[int] = []
    accumulator = 0.0
    for index in range(count):  # the accumulator's float rounding decides each phase
        accumulator += step
        while accumulator >= 1:
            sources.append(index)
            phases.append(math.floor((accumulator - 1) * FILTER_PHASES))
            accumulator -= 1
    return np.asarray(sources, dtype=np.int64), np.asarray(phases, dtype=np.int64)


def features(
    resampled: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per window (one every 256 samples once 512 have come): log10 power and the 12 MFCCs."""
    count = (len(resampled) - WINDOW) // HOP + 1 if len(resampled) >= WINDOW else 0
    log_energy = np.zeros(count)
    vectors = np.zeros((count, COEFFICIENTS))
    for first in range(0, count, BATCH_WINDOWS):  # bounded memory for long uploads
        windows = np.arange(first, min(count, first + BATCH_WINDOWS))
        index = windows[:, None] * HOP + np.arange(WINDOW)[None, :]
        blocks = _f32(resampled[index]) * WINDOW_FUNCTION
        spectrum = np.fft.rfft(blocks, axis=1)[:, : WINDOW // 2]
        power = _f32(np.abs(spectrum) ** 2 / WINDOW)
        log_energy[windows] = np.log10(power.sum(axis=1) + 1e-10)
        mel_energies = _f32(np.log10(power @ MEL_FILTERS.T + 1e-10))
        vectors[windows] = _f32(np.tanh(_f32(_f32(mel_energies @ DCT.T) * LIFTERS)))
    return log_energy, vectors


def gate(log_energy: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Per window, whether the energy gate is open.

    ``vadgate.mjs`` switches after 10 ms past a level, which at 16 ms a window
    (and the worklet's parameters, which leave the count unrounded) is one window.
    """
    open_now = False
    states = np.zeros(len(log_energy), dtype=np.bool_)
    for index, level in enumerate(log_energy):
        open_now = level >= SILENCE_LEVEL if open_now else level > SPEECH_LEVEL
        states[index] = open_now
    return states


def classify(
    samples: npt.NDArray[np.floating], *, sample_rate: int, model: Prototypes
) -> list[VisemeEvent]:
    """The viseme of every window HeadAudio's worklet would announce while speaking."""
    log_energy, vectors = features(to_model_rate(samples, sample_rate))
    gated = gate(log_energy)
    distances = np.empty((len(vectors), len(model.visemes)))
    for first in range(0, len(vectors), BATCH_WINDOWS):
        batch = vectors[first : first + BATCH_WINDOWS]
        diffs = _f32(batch[:, None, :] - model.means[None, :, :].astype(np.float64))
        distances[first : first + len(batch)] = np.einsum(
            "fpi,pij,fpj->fp", diffs, model.precisions, diffs
        )
    distances[:, model.visemes == SILENCE_ID] /= SILENCE_SENSITIVITY
    events: list[VisemeEvent] = []
    votes = [SILENCE_ID] * VOTES
    last_vote = SILENCE_ID
    for window in range(len(vectors)):
        if not gated[window]:
            continue  # the classifier sees only the gate's open windows; speech ends
        row = distances[window]
        nearest = len(row) - 1 - int(np.argmin(row[::-1]))  # the last of equals, as ``<=`` picks
        votes = [*votes[1:], int(model.visemes[nearest])]
        counts = np.bincount(votes, minlength=len(MODEL_VISEMES))
        voted = len(counts) - 1 - int(np.argmax(counts[::-1]))  # the last of equals, too
        if voted == last_vote == SILENCE_ID:
            continue  # silence goes on: nothing announced, nothing changed
        last_vote = voted
        if voted != SILENCE_ID:  # speaking: the worklet announces the viseme
            centre = (window * HOP + WINDOW) / RATE - WINDOW / RATE / 2
            events.append(VisemeEvent(t_s=centre, viseme=MODEL_VISEMES[voted]))
    return events
