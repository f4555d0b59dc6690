"""The audio → viseme engine: HeadAudio's prototypes, bundled, run by the numpy port.

For speech VisioVox did not synthesise (an upload), so no phonemes are known.
The model is the 14 kB file the npm package ships (``visiovox/assets``), read
at load; a call keeps no state, so one engine serves every job of a worker.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from visiovox.assets import headaudio_model
from visiovox.engines.base import Engine
from visiovox.engines.visemes.headaudio import HOP, RATE, Prototypes, classify
from visiovox.engines.visemes.oculus import SILENCE
from visiovox.engines.visemes.timeline import VisemeSegment, VisemeTimeline


class HeadAudioVisemes(Engine):
    """Visemes heard in speech audio, at HeadAudio's 16 ms steps."""

    name = "visemes.headaudio"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._model: Prototypes | None = None

    def load(self) -> None:
        self._model = Prototypes.read(headaudio_model())

    def estimated_bytes(self) -> int:
        return headaudio_model().stat().st_size

    def timeline(self, samples: npt.NDArray[np.floating], *, sample_rate: int) -> VisemeTimeline:
        """The visemes of ``samples``: each decision holds for its 16 ms step, else ``sil``."""
        assert self._model is not None, "load() first"
        duration_s = len(samples) / sample_rate
        half_step = HOP / RATE / 2
        segments: list[VisemeSegment] = []
        reached = 0.0  # where the segments so far end
        for event in classify(samples, sample_rate=sample_rate, model=self._model):
            start = event.t_s - half_step
            start = reached if start - reached < 1e-9 else start  # steps meet: no rounding gap
            end = min(duration_s, event.t_s + half_step)
            if end <= start:
                continue
            if start > reached:  # no decision between: silence
                segments.append(VisemeSegment(viseme=SILENCE, start_s=reached, end_s=start))
            if segments and segments[-1].viseme == event.viseme:
                segments[-1] = segments[-1].extended(end_s=end)
            else:
                segments.append(VisemeSegment(viseme=event.viseme, start_s=start, end_s=end))
            reached = end
        if duration_s > reached:
            segments.append(VisemeSegment(viseme=SILENCE, start_s=reached, end_s=duration_s))
        return VisemeTimeline(segments=tuple(segments), duration_s=duration_s, source="audio")
