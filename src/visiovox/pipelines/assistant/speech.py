"""Speaking a reply while it is written: complete sentences are synthesised at once.

Each sentence goes through ``synthesis.speak_chunks``: a cancel is honoured
between its chunks, and the whole reply counts against ``tts.max_audio_s``.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from visiovox.engines.tts.base import SpeechChunk, TTSEngine
from visiovox.engines.tts.sentences import SentenceStream
from visiovox.media.audio import AUDIO_CONTENT_TYPES, AUDIO_EXTENSIONS, AudioFormat, encode_audio
from visiovox.pipelines.assistant.spec import TTS
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.synthesis import AudioBudget, speak_chunks


class SentenceSpeaker:
    """Collects streamed text; each sentence, once followed by another, becomes audio."""

    def __init__(self, ctx: RunContext, *, voice: str | None) -> None:
        self._ctx = ctx
        self._engine = ctx.engine(TTS, TTSEngine)  # type: ignore[type-abstract]  # mypy#4717
        self._voice = voice or ctx.settings.tts.voice
        self._budget = AudioBudget(max_s=ctx.settings.tts.max_audio_s)
        self._sentences = SentenceStream()
        self._audio: list[npt.NDArray[np.float32]] = []
        # Every chunk spoken, with its phonemes: the reply's visemes.
        self.chunks: list[SpeechChunk] = []
        self.count = 0
        self.seconds = 0.0
        self.first_audio_at: float | None = None

    @property
    def sample_rate(self) -> int:
        return self._engine.sample_rate

    def feed(self, piece: str) -> None:
        """Add streamed text; speak every sentence that is now complete."""
        for sentence in self._sentences.feed(piece):
            self._speak(sentence)

    def flush(self) -> None:
        """Speak whatever is left once generation ended."""
        for sentence in self._sentences.rest():
            self._speak(sentence)

    def write_reply(self, fmt: str) -> float:
        """Write ``reply.<ext>`` from every sentence; answers its duration in seconds."""
        audio_format: AudioFormat = "ogg" if fmt == "opus" else fmt  # type: ignore[assignment]
        rate = self._engine.sample_rate
        samples = np.concatenate(self._audio) if self._audio else np.zeros(0, np.float32)
        name = f"reply.{AUDIO_EXTENSIONS[audio_format]}"
        encode_audio(samples, sample_rate=rate, fmt=audio_format, path=self._ctx.output_path(name))
        self._ctx.add_output(name, AUDIO_CONTENT_TYPES[audio_format])
        return round(len(samples) / rate, 3)

    def _speak(self, sentence: str) -> None:
        started = time.perf_counter()
        chunks = speak_chunks(
            self._ctx,
            engine=self._engine,
            text=sentence,
            voice=self._voice,
            speed=1.0,
            budget=self._budget,
            on_chunk=self.chunks.append,
        )
        if not chunks:
            return
        samples = np.concatenate(chunks)
        self.count += 1
        name = f"sentence-{self.count:03d}.wav"
        encode_audio(
            samples,
            sample_rate=self._engine.sample_rate,
            fmt="wav",
            path=self._ctx.output_path(name),
        )
        self._ctx.add_output(name, "audio/wav")
        self._audio.append(samples)
        self.seconds += time.perf_counter() - started
        if self.first_audio_at is None:
            self.first_audio_at = time.perf_counter()
