"""The offline voice converter: Praat's pitch analysis, PSOLA and formant shift (parselmouth).

No model download: the source's pitch contour is moved to the plan's median
and its excursions scaled by the plan's range factor, then re-synthesised by
pitch-synchronous overlap-add, and the formants are moved by Praat's "Change
gender" trick (resample by the ratio, PSOLA the duration and pitch back). It
changes what the source-filter model can say about a voice, pitch level,
range and vocal-tract length, and nothing else: breathiness, accent and the
fine detail of a timbre stay the source's. The formant ratio comes from the
medians of F1-F3 (Burg, one ceiling for both speakers so they compare) over
the voiced frames of each recording.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

from visiovox.engines.voice.base import (
    F0_LIMITS_HZ,
    ConversionPlan,
    NoVoicedSpeech,
    VoiceConverter,
    VoiceProfile,
)

log = logging.getLogger(__name__)

PITCH_FLOOR_HZ, PITCH_CEILING_HZ = F0_LIMITS_HZ
# Praat's advice is 5000 Hz for a man and 5500 Hz for a woman; one value for both
# speakers keeps their formants comparable, which is all the ratio needs.
FORMANT_CEILING_HZ = 5500.0
FORMANTS = 5
# The spread is the interquartile range over this (a normal's IQR is 1.349 standard
# deviations): an octave error of the tracker on a low voice moves it far less than
# it moves a standard deviation.
IQR_PER_SD = 1.349
# Less voiced speech than this gives no stable median.
MIN_VOICED_S = 0.5


class PsolaConverter(VoiceConverter):
    """Pitch level, range and formants moved with Praat's PSOLA; CPU only, no model files."""

    name = "voice.convert_psola"
    # Praat's periodicity analysis window: three periods of the pitch floor.
    lookahead_s = 3.0 / PITCH_FLOOR_HZ

    def load(self) -> None:
        import parselmouth

        log.info("praat-parselmouth %s ready", parselmouth.__version__)

    def analyse(self, samples: npt.NDArray[np.float32], *, sample_rate: int) -> VoiceProfile:
        import parselmouth
        from parselmouth.praat import call

        sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=sample_rate)
        pitch = sound.to_pitch_ac(pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ)
        f0 = np.asarray(pitch.selected_array["frequency"], np.float64)
        voiced = f0 > 0
        voiced_s = float(voiced.sum() * pitch.time_step)
        if voiced_s < MIN_VOICED_S:
            raise NoVoicedSpeech(f"{voiced_s:.2f} s of voiced speech, under {MIN_VOICED_S} s")
        semitones = 12.0 * np.log2(f0[voiced])

        formant = sound.to_formant_burg(
            max_number_of_formants=FORMANTS, maximum_formant=FORMANT_CEILING_HZ
        )
        voiced_at = np.interp(formant.xs(), pitch.xs(), voiced.astype(np.float64)) > 0.5
        medians = []
        for number in (1, 2, 3):
            values = np.asarray(call(formant, "To Matrix", number).values, np.float64)[0]
            chosen = values[voiced_at & np.isfinite(values) & (values > 0)]
            if chosen.size == 0:
                raise NoVoicedSpeech(f"no F{number} measured on the voiced frames")
            medians.append(float(np.median(chosen)))
        return VoiceProfile(
            f0_median_hz=float(np.median(f0[voiced])),
            f0_spread_st=float(np.subtract(*np.percentile(semitones, [75, 25])) / IQR_PER_SD),
            formants_hz=(medians[0], medians[1], medians[2]),
            voiced_s=voiced_s,
        )

    def voiced_f0(
        self, samples: npt.NDArray[np.float32], *, sample_rate: int
    ) -> npt.NDArray[np.float64]:
        import parselmouth

        sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=sample_rate)
        pitch = sound.to_pitch(pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ)
        f0 = np.asarray(pitch.selected_array["frequency"], np.float64)
        return f0[f0 > 0]

    def convert(
        self, samples: npt.NDArray[np.float32], *, sample_rate: int, plan: ConversionPlan
    ) -> npt.NDArray[np.float32]:
        import parselmouth
        from parselmouth.praat import call

        sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=sample_rate)
        changed = call(
            sound,
            "Change gender",
            PITCH_FLOOR_HZ,
            PITCH_CEILING_HZ,
            plan.formant_ratio,
            plan.f0_median_hz,
            plan.pitch_range,
            1.0,  # duration factor: the output keeps the input's timing
        )
        out = np.asarray(changed.values, np.float64)[0]
        # Resampling for the formant shift can leave a sample more or less.
        fitted = np.zeros(len(samples), np.float32)
        fitted[: min(len(out), len(samples))] = out[: len(samples)]
        return np.clip(fitted, -1.0, 1.0)
