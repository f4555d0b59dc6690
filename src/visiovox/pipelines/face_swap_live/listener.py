"""The session's reader, on a thread of its own: client messages in, the newest frame kept.

Everything the client sends is read here as it arrives. Commands and the
images that follow ``source``/``reference`` (the first binary message is the
source) are queued for the loop in order; every other binary message is a
video frame, numbered from 0 by the gateway (``jobs/live_streams.py``'s
``FrameNumbers``). Only the newest frame waits: one that a newer frame
replaces before the loop took it is listed as dropped, so however slow the
loop is, it always answers the latest picture. Frames the input stream's cap
dropped before they were read (a gap in the gateway's numbers) are listed as
dropped too, so every frame the client sent is answered or listed. When the cap
dropped more messages than frames, a command or an image went with them: the
loop is told (``Lost``), and tells the client to send it again.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from visiovox.jobs.live_streams import UPLOAD_COMMANDS
from visiovox.pipelines.context import LiveInput, LiveLink

# How long one wait for client messages lasts; also how soon ``stop`` is noticed.
POLL_S = 0.1


@dataclass(frozen=True)
class Upload:
    """A ``source`` or ``reference`` image."""

    role: str
    data: bytes


@dataclass(frozen=True)
class Frame:
    """A video frame: its 0-based number and when it was read (``time.perf_counter``)."""

    seq: int
    data: bytes
    at: float


@dataclass(frozen=True)
class Lost:
    """Client messages other than video frames (commands, images) the input stream's cap
    dropped."""

    count: int


Item = Upload | Lost | dict[str, Any]


class Listener:
    """Reads the link until ``stop``; ``wait``, ``items`` and ``frame`` hand over what came."""

    def __init__(self, link: LiveLink) -> None:
        self._link = link
        self._changed = threading.Condition()
        self._items: deque[Item] = deque()
        self._frame: Frame | None = None
        self._dropped: list[int] = []
        self._role = "source"  # what the next image upload is
        self._stopping = threading.Event()
        self._failure: BaseException | None = None
        self.frames_in = 0  # frames the client sent so far, as far as the gateway's numbers tell
        self.last_input = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="live-frames", daemon=True)

    def start(self) -> Listener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def wait(self, timeout_s: float, *, frames: bool = True) -> None:
        """Return when a command or an upload (or, with ``frames``, a frame) is waiting, or
        after ``timeout_s``."""
        with self._changed:
            if not self._items and (self._frame is None or not frames):
                self._changed.wait(timeout_s)
        if self._failure is not None:
            raise self._failure

    def items(self) -> list[Item]:
        """Commands and uploads since the last call, oldest first."""
        with self._changed:
            taken = list(self._items)
            self._items.clear()
        return taken

    def idle(self) -> bool:
        """No frame is waiting to be answered."""
        return self._frame is None

    def frame(self) -> tuple[Frame | None, list[int]]:
        """The newest frame not yet taken, and the frames skipped since the last call (in
        order)."""
        with self._changed:
            frame, dropped = self._frame, self._dropped
            self._frame, self._dropped = None, []
        return frame, sorted(dropped)

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                inputs = self._link.receive(timeout_s=POLL_S)
                if inputs:
                    self.last_input = time.monotonic()
                    with self._changed:
                        for item in inputs:
                            self._hear(item)
                        self._changed.notify_all()
        except BaseException as exc:  # handed to the loop, which ends the session with it
            self._failure = exc
            with self._changed:
                self._changed.notify_all()

    def _hear(self, item: LiveInput) -> None:
        # Frames numbered before this message but never read: the stream's cap dropped them.
        self._dropped.extend(range(self.frames_in, item.frames))
        lost_others = item.lost - max(0, item.frames - self.frames_in)
        if lost_others > 0:
            self._items.append(Lost(lost_others))
        self.frames_in = max(self.frames_in, item.frames)
        if item.command is not None:
            kind = item.command.get("type")
            if kind in UPLOAD_COMMANDS:
                self._role = str(kind)
            else:
                self._items.append(item.command)
        elif item.audio is not None and not item.video:
            self._items.append(Upload(self._role, item.audio))
            self._role = "source"
        elif item.audio is not None:
            self.frames_in = max(self.frames_in, item.frames + 1)
            if self._frame is not None:
                self._dropped.append(self._frame.seq)
            self._frame = Frame(item.frames, item.audio, time.perf_counter())
