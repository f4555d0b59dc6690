"""The voice-conversion interface: analyse two speakers, plan the change, convert audio.

A converter measures a ``VoiceProfile`` of the source and of the reference
(median F0, F0 spread, formants), a ``ConversionPlan`` says how far to move
each, and ``convert`` applies the plan to mono float32 samples, keeping their
length. The plan is fixed once made and ``convert`` holds no state between
calls, so a live session can plan from its reference once and convert block by
block (with the engine's ``lookahead_s`` of overlap). Imports nothing heavy.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visiovox.engines.base import Engine

# Bounds that keep the words intelligible: a wider pitch range than double or a
# formant shift past a quarter turns speech into a caricature (and PSOLA's
# resampling trick smears consonants), so the plan clips to them.
RANGE_LIMITS = (0.5, 2.0)
FORMANT_LIMITS = (0.8, 1.25)
# Where a speaking voice's median F0 can go: a deep bass speaks near 55 Hz, a
# child near 600 Hz; a pitch_shift past them is held at the bound.
F0_LIMITS_HZ = (50.0, 600.0)


@dataclass(frozen=True)
class VoiceProfile:
    """One speaker's measures over the voiced frames of a recording.

    ``f0_spread_st`` is the spread of F0 in semitones (as a standard deviation);
    ``formants_hz`` the medians of F1, F2 and F3.
    """

    f0_median_hz: float
    f0_spread_st: float
    formants_hz: tuple[float, float, float]
    voiced_s: float


@dataclass(frozen=True)
class ConversionPlan:
    """Where the converted voice goes: its median F0, range factor and formant ratio."""

    f0_median_hz: float
    pitch_range: float
    formant_ratio: float

    @classmethod
    def between(
        cls, *, source: VoiceProfile, target: VoiceProfile, pitch_shift: float | None = None
    ) -> ConversionPlan:
        """Move ``source`` toward ``target``; ``pitch_shift`` (semitones) overrides the F0 level."""
        if pitch_shift is None:
            median = target.f0_median_hz
        else:
            median = source.f0_median_hz * 2.0 ** (pitch_shift / 12.0)
        spread = target.f0_spread_st / source.f0_spread_st if source.f0_spread_st > 0 else 1.0
        ratios = [t / s for t, s in zip(target.formants_hz, source.formants_hz, strict=True)]
        formant = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        return cls(
            f0_median_hz=float(np.clip(median, *F0_LIMITS_HZ)),
            pitch_range=float(np.clip(spread, *RANGE_LIMITS)),
            formant_ratio=float(np.clip(formant, *FORMANT_LIMITS)),
        )

    def shift_semitones(self, source: VoiceProfile) -> float:
        """How far the plan moves the source's median F0, in semitones."""
        return 12.0 * math.log2(self.f0_median_hz / source.f0_median_hz)


class NoVoicedSpeech(ValueError):
    """The recording has too few voiced frames to measure a voice from."""


class VoiceConverter(Engine):
    """A voice converter that needs no model of the target speaker, only a recording."""

    # Audio a block needs beyond its end to be converted as a whole recording would be.
    lookahead_s: float = 0.0

    @abc.abstractmethod
    def analyse(self, samples: npt.NDArray[np.float32], *, sample_rate: int) -> VoiceProfile:
        """Measure the speaker of ``samples``; raises ``NoVoicedSpeech`` when nothing is voiced."""

    @abc.abstractmethod
    def convert(
        self, samples: npt.NDArray[np.float32], *, sample_rate: int, plan: ConversionPlan
    ) -> npt.NDArray[np.float32]:
        """``samples`` spoken as the plan says, the same length and rate."""

    @abc.abstractmethod
    def voiced_f0(
        self, samples: npt.NDArray[np.float32], *, sample_rate: int
    ) -> npt.NDArray[np.float64]:
        """F0 (Hz) of the voiced frames of ``samples``, as ``convert`` measures it (may be
        empty): a live session follows its speaker's level with it."""
