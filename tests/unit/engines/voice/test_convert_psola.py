"""The offline voice converter on Piper joe: F0 moved toward a reference, duration kept."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from tests.voices import piper_speech, semitones, tape_speed, yin_median_f0
from tests.wer import SPOKEN_SENTENCE
from visiovox.engines.pool import EnginePool
from visiovox.engines.voice.base import (
    F0_LIMITS_HZ,
    FORMANT_LIMITS,
    RANGE_LIMITS,
    ConversionPlan,
    NoVoicedSpeech,
    VoiceConverter,
    VoiceProfile,
)

RATE = 22_050
# How close the converted median F0 must land (the bound).
SEMITONE_TOLERANCE = 1.5


@pytest.fixture(scope="module")
def joe(bundled_pool: EnginePool) -> npt.NDArray[np.float32]:
    return piper_speech(bundled_pool, SPOKEN_SENTENCE + " She sells sea shells by the sea shore.")


@pytest.fixture
def converter(bundled_pool: EnginePool) -> Iterator[VoiceConverter]:
    yield bundled_pool.get("voice.convert_psola", VoiceConverter)  # type: ignore[type-abstract]
    bundled_pool.release("voice.convert_psola")


# A minor sixth up, an octave up, a fifth down (Piper's speech varies from run to
# run, so YIN reads a fifth of tape speed as 6.7-7.0 semitones).
@pytest.mark.parametrize("factor", [2 ** (8 / 12), 2.0, 2 ** (-7 / 12)])
def test_f0_moves_to_the_reference_and_the_duration_stays(
    converter: VoiceConverter, joe: npt.NDArray[np.float32], factor: float
) -> None:
    reference = tape_speed(joe, factor)
    source = converter.analyse(joe, sample_rate=RATE)
    target = converter.analyse(reference, sample_rate=RATE)
    plan = ConversionPlan.between(source=source, target=target)

    converted = converter.convert(joe, sample_rate=RATE, plan=plan)

    assert converted.shape == joe.shape and converted.dtype == np.float32
    before, wanted = yin_median_f0(joe, rate=RATE), yin_median_f0(reference, rate=RATE)
    after = yin_median_f0(converted, rate=RATE)
    assert abs(semitones(before, wanted)) >= 6.5
    assert abs(semitones(wanted, after)) <= SEMITONE_TOLERANCE, (before, wanted, after)


def test_formants_move_with_a_higher_voice(
    converter: VoiceConverter, joe: npt.NDArray[np.float32]
) -> None:
    source = converter.analyse(joe, sample_rate=RATE)
    target = converter.analyse(tape_speed(joe, 1.5), sample_rate=RATE)
    plan = ConversionPlan.between(source=source, target=target)
    converted = converter.analyse(
        converter.convert(joe, sample_rate=RATE, plan=plan), sample_rate=RATE
    )
    assert plan.formant_ratio > 1.1
    assert converted.formants_hz[1] > source.formants_hz[1] * 1.05


def test_an_explicit_pitch_shift_wins_over_the_reference(
    converter: VoiceConverter, joe: npt.NDArray[np.float32]
) -> None:
    source = converter.analyse(joe, sample_rate=RATE)
    target = converter.analyse(tape_speed(joe, 1.5), sample_rate=RATE)
    plan = ConversionPlan.between(source=source, target=target, pitch_shift=-5.0)
    converted = converter.convert(joe, sample_rate=RATE, plan=plan)
    moved = semitones(yin_median_f0(joe, rate=RATE), yin_median_f0(converted, rate=RATE))
    assert moved == pytest.approx(-5.0, abs=SEMITONE_TOLERANCE)


def test_silence_has_no_voice_to_measure(converter: VoiceConverter) -> None:
    with pytest.raises(NoVoicedSpeech):
        converter.analyse(np.zeros(RATE * 3, np.float32), sample_rate=RATE)


def _voice(median: float, spread: float, formants: tuple[float, float, float]) -> VoiceProfile:
    return VoiceProfile(
        f0_median_hz=median, f0_spread_st=spread, formants_hz=formants, voiced_s=3.0
    )


def test_the_plan_clips_range_and_formants_to_what_stays_intelligible() -> None:
    low = _voice(90.0, 2.0, (400.0, 1200.0, 2400.0))
    wild = _voice(300.0, 20.0, (800.0, 2400.0, 4800.0))
    plan = ConversionPlan.between(source=low, target=wild)
    assert plan.f0_median_hz == 300.0
    assert (plan.pitch_range, plan.formant_ratio) == (RANGE_LIMITS[1], FORMANT_LIMITS[1])
    assert plan.shift_semitones(low) == pytest.approx(12 * np.log2(300 / 90))
    down = ConversionPlan.between(source=low, target=wild, pitch_shift=-24)
    assert down.f0_median_hz == F0_LIMITS_HZ[0]
