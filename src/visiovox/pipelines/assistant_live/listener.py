"""The session's ears, on a thread of their own: client messages in, speech events out.

Everything the client sends is read here as it arrives: streamed PCM goes onto
the tape and through the VAD, whole WAVs are decoded, commands parsed (the binary
message after ``{"type": "portrait"}`` is the avatar's picture), and each becomes
a pending item for the conversation's loop, stamped with the moment it was heard.
Nothing the loop does (transcribing, generating, speaking, a reply prepared at a
pause) delays this: the end of speech is noticed when the audio says so, however
busy the loop is. The loop asks ``went_on`` to learn, at once, that the user
resumed speaking after a pause.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque

from visiovox.engines.vad.base import (
    SpeechDetector,
    VADEngine,
    VADOptions,
    VoiceEvent,
    VoiceEventKind,
)
from visiovox.media.errors import MediaError
from visiovox.pipelines.assistant.spec import VAD
from visiovox.pipelines.assistant_live.audio import (
    RATE,
    AudioTape,
    PcmDecoder,
    Samples,
    decode_wav,
    is_wav,
)
from visiovox.pipelines.assistant_live.messages import PortraitNext, parse_command
from visiovox.pipelines.assistant_live.turns import (
    Heard,
    Pending,
    PortraitImage,
    Rejected,
    Utterance,
)
from visiovox.pipelines.context import LiveInput, LiveLink, RunContext

# Whisper reads 30 s windows; a longer monologue is cut into turns there.
MAX_UTTERANCE_S = 30.0
# How long one wait for client messages lasts; also how soon ``stop`` is noticed.
POLL_S = 0.1
# Arrival times kept to date a sample (20 ms chunks: a few minutes of audio).
ARRIVALS_KEPT = 8192


def speech_detector(ctx: RunContext) -> SpeechDetector:
    """The session's VAD, set by ``vad.*`` and ``live.speculative_pause_ms`` (its pauses)."""
    vad = ctx.engine(VAD, VADEngine)  # type: ignore[type-abstract]  # mypy#4717
    settings = ctx.settings
    options = VADOptions(
        threshold=settings.vad.threshold,
        min_speech_ms=settings.vad.min_speech_ms,
        min_silence_ms=settings.vad.min_silence_ms,
        speech_pad_ms=settings.vad.speech_pad_ms,
        pause_ms=settings.live.speculative_pause_ms,
    )
    return vad.detector(options)


class Listener:
    """Reads the link on its own thread until ``stop``; ``take`` hands over what it heard.

    The tape and the detector are shared with the loop (a slice for a turn, the
    end of a turn the client declares), under one lock held only briefly.
    """

    def __init__(self, link: LiveLink, detector: SpeechDetector) -> None:
        self._link = link
        self._detector = detector
        self._pcm = PcmDecoder()
        self._tape = AudioTape()
        self._lock = threading.Lock()
        self._items: queue.SimpleQueue[Pending] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._failure: BaseException | None = None
        self._turn_start = 0  # where audio not yet part of a turn begins
        self._pauses = 0  # PAUSE events so far
        self._resumed_after = 0  # the last pause after which the speech went on
        self._arrivals: deque[tuple[int, float]] = deque(maxlen=ARRIVALS_KEPT)
        self._portrait_next = False  # the next binary message is a portrait, not audio
        self.last_input = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="live-listener", daemon=True)

    def start(self) -> Listener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def take(self, *, timeout_s: float) -> list[Pending]:
        """What was heard since the last call, oldest first; waits up to ``timeout_s`` for it."""
        if self._failure is not None:
            raise self._failure
        items: list[Pending] = []
        try:
            items.append(self._items.get(block=timeout_s > 0, timeout=timeout_s or None))
            while True:
                items.append(self._items.get_nowait())
        except queue.Empty:
            return items

    def went_on(self, pause: int) -> bool:
        """True once speech resumed (or a new utterance began) after pause number ``pause``."""
        return self._resumed_after >= pause

    def slice(self, start: int, end: int) -> Samples:
        with self._lock:
            return self._tape.slice(start, end)

    def arrived_at(self, position: int) -> float | None:
        """When the audio holding sample ``position`` arrived (``time.perf_counter``)."""
        with self._lock:
            arrivals = list(self._arrivals)
        found = None
        for end, at in reversed(arrivals):
            if end <= position:
                break
            found = at
        return found

    def close_turn(self, end: int) -> None:
        """The audio before ``end`` belongs to a finished turn: forget it."""
        with self._lock:
            self._turn_start = max(self._turn_start, end)
            self._tape.forget_before(self._turn_start)

    def end_turn_now(self) -> tuple[int, int]:
        """The client says its turn is over: the span of the speech under way (or since the
        last turn), closed at what has arrived."""
        with self._lock:
            event = self._detector.finish()
            start = event.start if event is not None else self._turn_start
            return start, self._tape.end

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                inputs = self._link.receive(timeout_s=POLL_S)
                for item in inputs:
                    self._hear(item)
                if inputs:
                    self.last_input = time.monotonic()
        except BaseException as exc:  # handed to the loop, which ends the session with it
            self._failure = exc

    def _hear(self, item: LiveInput) -> None:
        if item.command is not None:
            command = parse_command(item.command)
            if isinstance(command, PortraitNext):
                self._portrait_next = True
            else:
                self._items.put(command)
        elif item.audio is not None and self._portrait_next:
            self._portrait_next = False
            self._items.put(PortraitImage(item.audio))
        elif item.audio is not None and is_wav(item.audio):
            try:
                self._items.put(Utterance(decode_wav(item.audio)))
            except MediaError as exc:
                self._items.put(Rejected(exc.code, exc.message))  # the session goes on
        elif item.audio:
            self._hear_pcm(self._pcm.decode(item.audio))

    def _hear_pcm(self, samples: Samples) -> None:
        with self._lock:
            self._tape.append(samples)
            self._arrivals.append((self._tape.end, time.perf_counter()))
            was_paused = self._detector.paused
            events = self._detector.feed(samples)
            resumed = self._detector.utterance_start is not None and not self._detector.paused
            if was_paused and resumed:
                self._resumed_after = self._pauses  # the speech went on after the pause
            for event in events:
                self._note(event)
            self._cut_long_utterance()

    def _note(self, event: VoiceEvent) -> None:
        now = time.perf_counter()
        if event.kind is VoiceEventKind.PAUSE:
            self._pauses += 1
            self._items.put(Heard(event, at=now, pause=self._pauses))
            return
        if event.kind is VoiceEventKind.SPEECH_START:
            self._resumed_after = self._pauses
        self._items.put(Heard(event, at=now))

    def _cut_long_utterance(self) -> None:
        """Keep the tape bounded: cut a monologue into turns, forget old silence."""
        start = self._detector.utterance_start
        limit = int(MAX_UTTERANCE_S * RATE)
        if start is not None and self._tape.end - start > limit:
            cut = self._detector.finish()
            if cut is not None:
                self._note(cut)
        elif start is None and self._tape.end - self._turn_start > 2 * limit:
            self._turn_start = self._tape.end - limit
            self._tape.forget_before(self._turn_start)
