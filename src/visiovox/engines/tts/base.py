"""The text-to-speech interface: text in, one chunk of float32 audio per sentence out.

Imports nothing heavy, so pipelines can import it inside ``run`` for free.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visiovox.engines.base import Engine


@dataclass(frozen=True)
class SpeechChunk:
    """The audio of one sentence: mono float32 in [-1, 1] at ``sample_rate``."""

    text: str
    samples: npt.NDArray[np.float32]
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


class TTSEngine(Engine):
    """Speaks text in one of its voices, sentence by sentence."""

    sample_rate: int

    @abc.abstractmethod
    def voices(self) -> list[str]:
        """The voice names ``synthesize`` accepts."""

    @abc.abstractmethod
    def synthesize(
        self, text: str, *, voice: str | None = None, speed: float = 1.0
    ) -> Iterator[SpeechChunk]:
        """Yield one chunk per sentence of ``text``; ``speed`` 2.0 talks twice as fast.

        ``voice`` None is the configured default; an unknown voice raises
        ``PipelineError("unknown_voice", ...)`` before any audio is made.
        """
