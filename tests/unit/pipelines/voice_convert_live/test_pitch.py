"""PitchLevel: a stream converted window by window keeps its intonation, moved by one interval."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tests.voices import semitones, yin_median_f0
from visiovox.engines.pool import EnginePool
from visiovox.engines.voice.base import ConversionPlan, VoiceConverter
from visiovox.pipelines.voice_convert.spec import OFFLINE_ENGINE
from visiovox.pipelines.voice_convert_live.blocks import BlockConverter
from visiovox.pipelines.voice_convert_live.pitch import PitchLevel

RATE = 16_000
CHUNK = 320


def stepping_voice(low_hz: float, high_hz: float, seconds: int) -> npt.NDArray[np.float32]:
    """A buzz (ten harmonics) at ``low_hz`` one second, ``high_hz`` the next, and so on."""
    t = np.arange(seconds * RATE) / RATE
    f0 = np.where(np.floor(t) % 2 == 0, low_hz, high_hz)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    buzz = sum(np.sin(k * phase) / k for k in range(1, 11))
    return (0.2 * buzz).astype(np.float32)


def test_the_glide_is_kept_and_moved_toward_the_target(engine_pool: EnginePool) -> None:
    engine = engine_pool.get(OFFLINE_ENGINE, VoiceConverter)  # type: ignore[type-abstract]
    try:
        plan = ConversionPlan(f0_median_hz=200.0, pitch_range=1.0, formant_ratio=1.0)
        level = PitchLevel(engine, plan, rate=RATE)
        blocks = BlockConverter(
            lambda w: engine.convert(w, sample_rate=RATE, plan=level.plan_for(w)),
            rate=RATE,
            lookahead_s=engine.lookahead_s,
        )
        voice = stepping_voice(100.0, 150.0, 6)
        out = []
        for start in range(0, len(voice), CHUNK):
            blocks.feed(voice[start : start + CHUNK])
            while blocks.ready():
                out.append(blocks.convert())
        out.append(blocks.finish())
    finally:
        engine_pool.release(OFFLINE_ENGINE)
    converted = np.concatenate(out)
    # The last two seconds, past the windows that straddle a step: the source rises a fifth
    # (7 st) from one to the next, and so does the converted stream (each window moved to
    # the plan's median alone would hold both at 200 Hz).
    low_hz = yin_median_f0(converted[4 * RATE + RATE // 2 : 5 * RATE], rate=RATE)
    high_hz = yin_median_f0(converted[5 * RATE + RATE // 2 :], rate=RATE)
    assert semitones(low_hz, high_hz) > 5.0, (low_hz, high_hz)
    # And the stream moved by one interval, the speaker's level (100 or 150 Hz: half the
    # time each) to 200 Hz: the plan's median lies between the two steps, both moved up.
    assert semitones(low_hz, 200.0) >= -0.5 and semitones(200.0, high_hz) >= -0.5
    assert semitones(100.0, low_hz) > 2.0, low_hz
