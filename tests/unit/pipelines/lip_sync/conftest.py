"""Speech for the lip-sync pipeline tests: a sentence Piper speaks, which Silero VAD hears."""

from __future__ import annotations

import numpy as np
import pytest

from tests.wer import SPOKEN_SENTENCE
from visiovox.engines.pool import EnginePool
from visiovox.engines.tts.base import TTSEngine

Spoken = tuple[np.ndarray, int]


@pytest.fixture(scope="module")
def spoken(engine_pool: EnginePool) -> Spoken:
    """SPOKEN_SENTENCE by Piper and its sample rate: speech that Silero VAD hears as speech."""
    tts = engine_pool.get("tts.piper", TTSEngine)  # type: ignore[type-abstract]  # mypy#4717
    try:
        samples = np.concatenate([chunk.samples for chunk in tts.synthesize(SPOKEN_SENTENCE)])
        return samples, tts.sample_rate
    finally:
        engine_pool.release("tts.piper")
