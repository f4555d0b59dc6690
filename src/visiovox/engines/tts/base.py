"""The text-to-speech interface: text in, chunks of float32 audio out, sentence by sentence.

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
    """The audio of one synthesis call: mono float32 in [-1, 1] at ``sample_rate``.

    ``text`` is the sentence it speaks. A sentence too long for one call comes
    as several chunks, each with the sentence's text, ``last`` on the final one.
    ``phonemes`` are the phonemes spoken, in order, each with its seconds of the
    chunk (they add up to its duration), when the engine knows them: Piper's
    espeak-ng IPA symbols, with ``^``/``$`` for its start and end; empty otherwise.
    """

    text: str
    samples: npt.NDArray[np.float32]
    sample_rate: int
    last: bool = True
    phonemes: tuple[tuple[str, float], ...] = ()

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
        """Yield the chunks of each sentence of ``text``; ``speed`` 2.0 talks twice as fast.

        Every chunk is bounded (a caller may check for a cancel between chunks);
        unspeakable characters are dropped first (``media/speakable.py``).
        ``voice`` None is the configured default; an unknown voice raises
        ``PipelineError("unknown_voice", ...)`` before any audio is made.
        """
