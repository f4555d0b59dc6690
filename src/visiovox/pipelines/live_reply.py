"""One spoken reply of a live session: streamed text, sentence audio as soon as each ends.

Every piece of text goes to the client as a ``response`` delta when the model
writes it; each sentence, once the next one has begun (or the reply ended), is
synthesised and sent as one binary WAV message. Between pieces and after each
sentence ``should_stop`` is asked: a barge-in closes the model's stream (which
ends the generation) and nothing more of this reply is sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from visiovox.engines.llm.base import ChatMessage, LLMEngine, Usage
from visiovox.engines.tts.base import TTSEngine
from visiovox.engines.tts.sentences import split_sentences
from visiovox.pipelines.live_audio import wav_bytes
from visiovox.pipelines.live_link import LiveLink


@dataclass
class ReplyOutcome:
    """What was said, how it went and when, in seconds from the reply's ``origin``."""

    text: str = ""
    interrupted: bool = False
    usage: Usage = field(default_factory=Usage)
    sentences: int = 0
    audio_s: float = 0.0
    first_token: float | None = None
    first_audio: float | None = None
    generate_s: float = 0.0
    synthesize_s: float = 0.0


class LiveReply:
    """Generates and speaks one reply, stopping at once when ``should_stop`` says so."""

    def __init__(
        self,
        *,
        link: LiveLink,
        llm: LLMEngine,
        tts: TTSEngine,
        voice: str | None,
        should_stop: Callable[[], bool],
        origin: float,
    ) -> None:
        self._link = link
        self._llm = llm
        self._tts = tts
        self._voice = voice
        self._should_stop = should_stop
        self._origin = origin
        self._text = ""
        self._spoken = 0
        self.outcome = ReplyOutcome()

    def run(
        self, messages: list[ChatMessage], *, max_tokens: int, temperature: float
    ) -> ReplyOutcome:
        outcome = self.outcome
        started = time.perf_counter()
        stream = self._llm.chat(
            messages, max_tokens=max_tokens, temperature=temperature, usage=outcome.usage
        )
        try:
            for piece in stream:
                if outcome.first_token is None:
                    outcome.first_token = time.perf_counter() - self._origin
                self._text += piece
                self._link.send({"type": "response", "delta": piece})
                complete = len(split_sentences(self._text)) - 1
                if self._should_stop() or not self._speak_until(complete):
                    outcome.interrupted = True
                    break
        finally:
            # Closing the generator ends the generation now (and frees the engine's lock).
            close = getattr(stream, "close", None)
            if callable(close):
                close()
        if not outcome.interrupted:
            outcome.interrupted = not self._speak_until(None)
        outcome.text = self._text.strip()
        outcome.generate_s = time.perf_counter() - started - outcome.synthesize_s
        return outcome

    def _speak_until(self, end: int | None) -> bool:
        """Speak the sentences not yet spoken, up to ``end``; False once told to stop."""
        sentences = split_sentences(self._text)[:end]
        for sentence in sentences[self._spoken :]:
            self._spoken += 1
            self._speak(sentence)
            if self._should_stop():
                return False
        return True

    def _speak(self, sentence: str) -> None:
        outcome = self.outcome
        started = time.perf_counter()
        chunks = [c.samples for c in self._tts.synthesize(sentence, voice=self._voice)]
        if not chunks:
            return
        samples = np.concatenate(chunks)
        self._link.send_audio(wav_bytes(samples, sample_rate=self._tts.sample_rate))
        now = time.perf_counter()
        outcome.synthesize_s += now - started
        outcome.sentences += 1
        outcome.audio_s += len(samples) / self._tts.sample_rate
        if outcome.first_audio is None:
            outcome.first_audio = now - self._origin
