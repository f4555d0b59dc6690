"""The speaker's pitch level followed through a live session, so each window keeps its intonation.

Praat's "Change gender" moves a window's pitch median to the plan's median:
applied to each window alone it would level every half second to the same
pitch and flatten the intonation between them. ``PitchLevel`` keeps the
medians of the speaker's recent windows instead; each window's target is its
own median times the ratio of the reference's median to the speaker's, so
the whole stream moves by one interval (which settles within the first
seconds of speech) and rises and falls as the speaker's does.
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np

from visiovox.engines.voice.base import F0_LIMITS_HZ, ConversionPlan, VoiceConverter
from visiovox.pipelines.voice_convert_live.blocks import Samples

# Window medians kept for the speaker's level (a window every ~40 ms: the last ~10 s).
WINDOWS_KEPT = 250


class PitchLevel:
    """The plan for each window of one session: the reference's plan, at a steady interval."""

    def __init__(self, engine: VoiceConverter, plan: ConversionPlan, *, rate: int) -> None:
        self._engine = engine
        self._plan = plan
        self._rate = rate
        self._medians: deque[float] = deque(maxlen=WINDOWS_KEPT)

    def plan_for(self, window: Samples) -> ConversionPlan:
        """The plan that moves ``window`` by the session's interval (unvoiced: as it was)."""
        f0 = self._engine.voiced_f0(window, sample_rate=self._rate)
        if not len(f0):
            return self._plan
        median = float(np.median(f0))
        self._medians.append(median)
        speaker = float(np.median(self._medians))
        target = median * self._plan.f0_median_hz / speaker
        return dataclasses.replace(self._plan, f0_median_hz=float(np.clip(target, *F0_LIMITS_HZ)))
