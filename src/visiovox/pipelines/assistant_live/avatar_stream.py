"""The live avatar's frames on a thread of the session's own, beside the sentences' audio.

Each spoken sentence gets a number (``sentence``, counted over the session
from 0) and frames 0..n-1 at the session's fps covering its audio. The loop
(``run.py``, through ``reply.py``) prepares a sentence as soon as its audio is
synthesised: its mouth shapes, and its first ``LEAD_S`` of frames painted at
once. Delivering it sends those frames, then the WAV, then hands the rest to
this thread, which paints and sends each frame at most ``AHEAD_S`` before its
play time (counted from when the WAV was sent, so a client that plays the
audio on arrival holds every frame before its ``pts_ms``). Painting off the
loop keeps the model and the listener's VAD from waiting on it.

Each frame is two messages, ``{"type": "video_frame", "sentence", "index",
"pts_ms"}`` and the JPEG, sent together under the link's lock (``SerialLink``:
the loop and this thread share the link), so the binary message after a
``video_frame`` is always its picture. Between replies, once the last
sentence's audio should have played out, the avatar idles: a frame every
1 / ``IDLE_FPS`` s with ``sentence`` and ``pts_ms`` null (show it at once),
mouth closed, blinking and swaying. ``interrupt`` (a barge-in) forgets every
frame not yet sent; once it returns, no frame of an earlier sentence follows.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from visiovox.engines.lipsync.drive import MouthTrack
from visiovox.engines.visemes.timeline import VisemeTimeline
from visiovox.pipelines.assistant_live.audio import Samples
from visiovox.pipelines.assistant_live.avatar import (
    AvatarPainter,
    Portrait,
    frame_count,
    pts_ms,
    sentence_mouth,
)
from visiovox.pipelines.assistant_live.messages import VideoFrame
from visiovox.pipelines.context import LiveInput, LiveLink

# Frames painted on the loop and sent before a sentence's audio: enough that the painting
# thread, which starts on the rest as the WAV goes, is never behind the first sentence while
# the model writes the next (bench/live_avatar.py, idle: 0.12 s left 1.2 % of frames late,
# 0.3 s none; 0.6 s none either, but the first audio 0.3 s later).
LEAD_S = 0.3
# How far ahead of its play time a frame may be sent. The worker runs a live session at a
# raised CPU priority (worker.cpu_priority), so on a busy machine the relay (Redis, the
# gateway) may wait while the model and Piper work on; frames already in the stream then
# arrive with their sentence's audio. 1 s of frames left 1-2 % late beside other work
# (bench/live_avatar.py); 3 s, about 75 frames at 25 fps, is the margin.
AHEAD_S = 3.0
# Idle frames per second between replies.
IDLE_FPS = 5


class SerialLink:
    """A ``LiveLink`` two threads can send on: each send, and each ``lock`` block, is whole."""

    def __init__(self, link: LiveLink) -> None:
        self._link = link
        self.lock = threading.RLock()

    @property
    def dropped(self) -> int:
        return self._link.dropped

    def receive(self, *, timeout_s: float) -> list[LiveInput]:
        return self._link.receive(timeout_s=timeout_s)

    def send(self, message: dict[str, Any]) -> None:
        with self.lock:
            self._link.send(message)

    def send_audio(self, data: bytes) -> None:
        with self.lock:
            self._link.send_audio(data)

    def remember(self, session_id: str, messages: list[dict[str, str]]) -> None:
        self._link.remember(session_id, messages)


@dataclass(frozen=True)
class PreparedSentence:
    """A sentence's mouth shapes, frame count and first frames, before it is numbered."""

    track: MouthTrack
    frames: int
    lead: list[bytes]
    duration_s: float


@dataclass
class _Queued:
    """The rest of a delivered sentence's frames, and when its audio was sent."""

    number: int
    prepared: PreparedSentence
    sent_at: float
    starts_at: float  # when the client should start playing it (after what plays before)
    generation: int
    next_index: int


@dataclass
class AvatarStats:
    """Frames sent so far: talking (``late``: sent after their play time) and idle."""

    talking: int = 0
    idle: int = 0
    sentences: int = 0
    late: int = 0


class AvatarStream:
    """Paints and sends the avatar's frames on its own thread until ``stop``."""

    def __init__(self, link: SerialLink, painter: AvatarPainter, *, fps: int) -> None:
        self._link = link
        self._painter = painter
        self._fps = fps
        self._clock_zero = time.monotonic()
        self._cond = threading.Condition()
        self._painting = threading.Lock()  # the painter's portrait and clock are shared
        self._queue: deque[_Queued] = deque()
        self._generation = 0
        self._playing_until = 0.0
        self._next_idle = 0.0
        self._idle_index = 0
        self._sentences = 0
        self._stopping = False
        self._failure: BaseException | None = None
        self.stats = AvatarStats()
        self._thread = threading.Thread(target=self._run, name="live-avatar", daemon=True)

    def start(self) -> AvatarStream:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join()

    def check(self) -> None:
        """Raise what ended the painting thread, if anything did."""
        if self._failure is not None:
            raise self._failure

    def use(self, portrait: Portrait) -> None:
        """Paint ``portrait`` from the next frame on."""
        with self._painting:
            self._painter.use(portrait)
        with self._cond:
            self._next_idle = 0.0  # show it at once
            self._cond.notify()

    # -- the loop's side --------------------------------------------------------------

    def prepare(
        self, samples: Samples, *, sample_rate: int, visemes: VisemeTimeline | None = None
    ) -> PreparedSentence:
        """Mouth shapes (by ``visemes`` when known) and lead frames of a sentence, painted
        now (nothing is sent)."""
        fps = self._fps
        duration_s = len(samples) / sample_rate
        track = sentence_mouth(samples, sample_rate=sample_rate, fps=fps, visemes=visemes)
        frames = frame_count(duration_s, fps)
        starts_at = max(time.monotonic(), self._playing_until)
        lead_count = min(frames, max(1, math.ceil(LEAD_S * fps)))
        with self._painting:
            lead = [
                self._painter.talking(track, index, t=self._clock(starts_at) + index / fps)
                for index in range(lead_count)
            ]
        return PreparedSentence(track, frames, lead, duration_s)

    def deliver(self, prepared: PreparedSentence, wav: bytes) -> None:
        """Number the sentence, send its lead frames and its audio, queue the rest."""
        with self._link.lock:
            number = self._sentences
            self._sentences += 1
            for index, jpeg in enumerate(prepared.lead):
                self._send(VideoFrame(number, index, pts_ms(index, self._fps)), jpeg)
            self._link.send_audio(wav)
            sent_at = time.monotonic()
            with self._cond:
                starts_at = max(sent_at, self._playing_until)
                self._playing_until = starts_at + prepared.duration_s
                self.stats.talking += len(prepared.lead)
                self.stats.sentences += 1
                if len(prepared.lead) < prepared.frames:
                    self._queue.append(
                        _Queued(
                            number,
                            prepared,
                            sent_at,
                            starts_at,
                            self._generation,
                            len(prepared.lead),
                        )
                    )
                self._cond.notify()

    def interrupt(self) -> None:
        """Forget every frame not yet sent; none of them is sent after this returns."""
        with self._link.lock, self._cond:
            self._generation += 1
            self._queue.clear()
            self._playing_until = time.monotonic()
            self._next_idle = 0.0
            self._cond.notify()

    # -- the painting thread ----------------------------------------------------------

    def _clock(self, at: float) -> float:
        return at - self._clock_zero

    def _run(self) -> None:
        try:
            while True:
                work = self._next()
                if work is None:
                    return
                work()
        except BaseException as exc:  # handed to the loop, which ends the session with it
            self._failure = exc

    def _next(self) -> Callable[[], None] | None:
        """Wait for the next frame to paint; None once stopping."""
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                if self._queue:
                    # The earliest due: a sentence's frames keep its own audio's clock, even
                    # while an earlier one's frames still go out.
                    item = min(self._queue, key=self._due)
                    due = self._due(item)
                    if due <= now:
                        return self._talking_frame(item)
                    wait = due - now
                else:
                    due = max(self._playing_until, self._next_idle)
                    if due <= now:
                        self._next_idle = now + 1 / IDLE_FPS
                        return self._idle_frame
                    wait = due - now
                self._cond.wait(timeout=wait)
        return None

    def _due(self, item: _Queued) -> float:
        """When ``item``'s next frame may go: ``AHEAD_S`` before its play time."""
        return item.sent_at + item.next_index / self._fps - AHEAD_S

    def _talking_frame(self, item: _Queued) -> Callable[[], None]:
        """Take frame ``item.next_index`` off the queue (called under the condition)."""
        index = item.next_index
        item.next_index += 1
        if item.next_index >= item.prepared.frames:
            self._queue.remove(item)
        t = self._clock(item.starts_at) + index / self._fps
        pts = pts_ms(index, self._fps)

        def paint_and_send() -> None:
            with self._painting:
                jpeg = self._painter.talking(item.prepared.track, index, t=t)
            with self._link.lock:
                if item.generation != self._generation:
                    return  # interrupted while it was painted
                self._send(VideoFrame(item.number, index, pts), jpeg)
                self.stats.talking += 1
                self.stats.late += time.monotonic() > item.sent_at + pts / 1000

        return paint_and_send

    def _idle_frame(self) -> None:
        with self._painting:
            jpeg = self._painter.idle(t=self._clock(time.monotonic()))
        with self._link.lock:
            if self._queue or time.monotonic() < self._playing_until:
                return  # a sentence was delivered meanwhile
            self._send(VideoFrame(None, self._idle_index, None), jpeg)
            self._idle_index += 1
            self.stats.idle += 1

    def _send(self, frame: VideoFrame, jpeg: bytes) -> None:
        with self._link.lock:
            self._link.send(frame.to_json())
            self._link.send_audio(jpeg)
