"""Speaking text inside a job: chunk by chunk, a cancel checked and the audio cap kept between.

The TTS engine yields bounded chunks (``engines/tts/piper.py``); between two of
them the job checks for a cancel (and, on a worker, its memory ceiling) and
counts the audio against ``tts.max_audio_s``, past which it fails with
``audio_too_long`` rather than holding ever more samples. Imported by pipelines
inside ``run`` (it imports numpy and the engine interface).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from visiovox.engines.tts.base import SpeechChunk, TTSEngine
from visiovox.errors import PipelineError
from visiovox.pipelines.context import RunContext

AUDIO_TOO_LONG = "audio_too_long"


class AudioBudget:
    """The seconds of audio one job may still produce (``tts.max_audio_s``)."""

    def __init__(self, *, max_s: float) -> None:
        self.max_s = max_s
        self.spent_s = 0.0

    def spend(self, chunk: SpeechChunk) -> None:
        """Count ``chunk``; raises ``audio_too_long`` once the job's audio passes the cap."""
        self.spent_s += chunk.duration_s
        if self.spent_s > self.max_s:
            raise PipelineError(
                AUDIO_TOO_LONG,
                f"the speech is over {self.max_s:g} s (tts.max_audio_s); send less text "
                "or a faster speed",
            )


def speak_chunks(
    ctx: RunContext,
    *,
    engine: TTSEngine,
    text: str,
    voice: str | None,
    speed: float,
    budget: AudioBudget,
    on_chunk: Callable[[SpeechChunk], None] | None = None,
) -> list[npt.NDArray[np.float32]]:
    """The samples of every chunk of ``text``; ``on_chunk`` is called after each (progress)."""
    pieces: list[npt.NDArray[np.float32]] = []
    ctx.check_cancelled()
    for chunk in engine.synthesize(text, voice=voice, speed=speed):
        budget.spend(chunk)
        pieces.append(chunk.samples)
        if on_chunk is not None:
            on_chunk(chunk)
        ctx.check_cancelled()
    return pieces


def speak_text(
    ctx: RunContext,
    *,
    engine: TTSEngine,
    text: str,
    voice: str | None,
    speed: float,
    on_progress: Callable[[float, int], None],
    on_chunk: Callable[[SpeechChunk], None] | None = None,
) -> tuple[npt.NDArray[np.float32], int]:
    """The whole speech of one job's ``text`` and its number of sentences.

    Checks ``tts.max_chars`` first; ``on_progress(share, sentence)`` follows the
    sentences (share 0-1 of the text spoken), ``on_chunk`` sees every chunk (its
    phonemes, for visemes). A text that made no audio at all fails with
    ``nothing_to_say``.
    """
    settings = ctx.settings.tts
    if len(text) > settings.max_chars:
        raise PipelineError(
            "text_too_long", f"text is {len(text)} characters, over {settings.max_chars}"
        )
    spoken_chars = 0
    sentences = 0

    def progress(chunk: SpeechChunk) -> None:
        nonlocal spoken_chars, sentences
        if on_chunk is not None:
            on_chunk(chunk)
        if chunk.last:
            spoken_chars += len(chunk.text)
            sentences += 1
            on_progress(min(1.0, spoken_chars / len(text)), sentences)

    budget = AudioBudget(max_s=settings.max_audio_s)
    pieces = speak_chunks(
        ctx, engine=engine, text=text, voice=voice, speed=speed, budget=budget, on_chunk=progress
    )
    if not pieces:
        raise PipelineError("nothing_to_say", "the text holds nothing that can be spoken")
    return np.concatenate(pieces), sentences
