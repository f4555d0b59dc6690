"""One spoken reply of a live session: streamed text, sentence audio as soon as each ends.

Every piece of text goes to the client as a ``response`` delta when the model
writes it; each sentence, once the next one has begun (or the reply ended), is
synthesised and sent as one binary WAV message (with the live avatar, its lead
frames before it and the rest on the avatar's thread: ``avatar_stream.py``).
Between pieces and after each sentence ``should_stop`` is asked: a barge-in
closes the model's stream (which ends the generation) and nothing more of this
reply is sent.

A reply can also be *prepared*: started while the user may still go on talking,
run up to its first sentence's audio with everything it sends held back, then
either released (the user had finished: the held messages go out at once and
the reply goes on) or dropped (the user went on: nothing was sent). Preparing
stops between pieces once its ``should_stop`` says the user went on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from visiovox.engines.llm.base import ChatMessage, LLMEngine, Usage
from visiovox.engines.tts.base import TTSEngine
from visiovox.engines.tts.sentences import SentenceStream
from visiovox.engines.visemes.speech import has_phonemes, speech_timeline
from visiovox.pipelines.assistant_live.audio import wav_bytes
from visiovox.pipelines.assistant_live.messages import Outgoing, ResponseDelta
from visiovox.pipelines.context import LiveLink

if TYPE_CHECKING:
    from visiovox.pipelines.assistant_live.avatar_stream import AvatarStream
    from visiovox.pipelines.assistant_live.visemes import SentenceVisemes

# What the outbox sends: a message, a binary message, or a delivery to run when released.
Sendable = Outgoing | bytes | Callable[[], None]


@dataclass
class ReplyOutcome:
    """What was said and how it went; ``*_at`` are ``time.perf_counter()`` readings,
    ``generate_s`` and ``synthesize_s`` the time spent in the model and in TTS."""

    text: str = ""
    interrupted: bool = False
    usage: Usage = field(default_factory=Usage)
    sentences: int = 0
    audio_s: float = 0.0
    first_token_at: float | None = None
    first_audio_at: float | None = None
    generate_s: float = 0.0
    synthesize_s: float = 0.0


class _Outbox:
    """Sends to the link, or holds what is sent until released."""

    def __init__(self, link: LiveLink, *, held: bool) -> None:
        self._link = link
        self._held: list[Sendable] | None = [] if held else None

    def send(self, item: Sendable) -> None:
        if self._held is not None:
            self._held.append(item)
        elif isinstance(item, bytes):
            self._link.send_audio(item)
        elif isinstance(item, Outgoing):
            self._link.send(item.to_json())
        else:
            item()

    def release(self) -> None:
        held, self._held = self._held or [], None
        for item in held:
            self.send(item)


class LiveReply:
    """Generates and speaks one reply, stopping at once when ``should_stop`` says so."""

    def __init__(
        self,
        *,
        link: LiveLink,
        llm: LLMEngine,
        tts: TTSEngine,
        voice: str | None,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        held: bool = False,
        avatar: AvatarStream | None = None,
        visemes: SentenceVisemes | None = None,
    ) -> None:
        self._llm = llm
        self._avatar = avatar
        self._visemes = visemes
        self._link = link
        self._tts = tts
        self._voice = voice
        self._outbox = _Outbox(link, held=held)
        self._should_stop: Callable[[], bool] = lambda: False
        self._sentences = SentenceStream()
        self.outcome = ReplyOutcome()
        self._stream = llm.chat(
            messages, max_tokens=max_tokens, temperature=temperature, usage=self.outcome.usage
        )
        self._steps = self._generate()

    def prepare(self, *, should_stop: Callable[[], bool]) -> None:
        """Run until the first sentence is spoken (held back), the reply ends, or
        ``should_stop`` says so (asked between pieces, as during ``finish``)."""
        self._should_stop = should_stop
        next(self._steps, None)

    def finish(self, *, should_stop: Callable[[], bool]) -> ReplyOutcome:
        """Release anything held and run the reply to its end or to a barge-in."""
        self._should_stop = should_stop
        self._outbox.release()
        if self._should_stop():
            self.outcome.interrupted = True
            self.drop()
        for _ in self._steps:
            pass
        return self.outcome

    def drop(self) -> None:
        """Stop generating now: closing the stream ends the generation and frees the engine."""
        self._steps.close()
        self._close_stream()

    def _close_stream(self) -> None:
        close = getattr(self._stream, "close", None)
        if callable(close):
            close()

    def _generate(self) -> Generator[None, None, None]:
        """Yields after each spoken sentence; ends when the reply does or is stopped."""
        outcome = self.outcome
        pieces = iter(self._stream)
        try:
            while True:
                asked = time.perf_counter()
                piece = next(pieces, None)
                outcome.generate_s += time.perf_counter() - asked
                if piece is None:
                    break
                outcome.first_token_at = outcome.first_token_at or time.perf_counter()
                self._outbox.send(ResponseDelta(piece))
                spoke = yield from self._speak_all(self._sentences.feed(piece))
                if not spoke or self._should_stop():
                    outcome.interrupted = True
                    return
            outcome.interrupted = not (yield from self._speak_all(self._sentences.rest()))
        finally:
            self._close_stream()
            outcome.text = self._sentences.text.strip()

    def _speak_all(self, sentences: list[str]) -> Generator[None, None, bool]:
        """Speak ``sentences`` one by one; answers False once told to stop."""
        for sentence in sentences:
            self._speak(sentence)
            yield
            if self._should_stop():
                return False
        return True

    def _speak(self, sentence: str) -> None:
        outcome = self.outcome
        started = time.perf_counter()
        spoken = list(self._tts.synthesize(sentence, voice=self._voice))
        if not spoken:
            return
        samples = np.concatenate([chunk.samples for chunk in spoken])
        wav = wav_bytes(samples, sample_rate=self._tts.sample_rate)
        if self._visemes is not None:  # numbered when sent, before the audio and its frames
            visemes, timeline = self._visemes, self._visemes.timeline(spoken)
            self._outbox.send(lambda: self._link.send(visemes.announce(timeline).to_json()))
        if self._avatar is None:
            self._outbox.send(wav)
        else:
            avatar = self._avatar
            # The mouth follows the phonemes Piper spoke when it knows them.
            phonemes = speech_timeline(spoken) if has_phonemes(spoken) else None
            prepared = avatar.prepare(samples, sample_rate=self._tts.sample_rate, visemes=phonemes)
            self._outbox.send(lambda: avatar.deliver(prepared, wav))
        now = time.perf_counter()
        outcome.synthesize_s += now - started
        outcome.sentences += 1
        outcome.audio_s += len(samples) / self._tts.sample_rate
        outcome.first_audio_at = outcome.first_audio_at or now
