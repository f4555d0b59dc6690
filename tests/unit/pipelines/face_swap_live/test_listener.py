"""The live face swap's reader: uploads in order, frames numbered, only the newest kept."""

from __future__ import annotations

import time

from visiovox.pipelines.face_swap_live.listener import Listener, Lost, Upload
from visiovox.pipelines.testing import MemoryLiveLink


def _settled(listener: Listener, link: MemoryLiveLink) -> None:
    """Wait until the listener has read everything put on ``link``."""
    deadline = time.monotonic() + 5
    while not link._inputs.empty() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # the last batch is handed over under the lock


def test_the_first_binary_is_the_source_and_later_ones_are_numbered_frames() -> None:
    link = MemoryLiveLink()
    listener = Listener(link).start()
    try:
        link.put_audio(b"source")
        for index in range(4):
            link.put_frame(f"frame {index}".encode(), seq=index)
        link.put_command({"type": "source"})
        link.put_audio(b"new source")
        link.put_command({"type": "end_session"})
        _settled(listener, link)
        assert listener.items() == [
            Upload("source", b"source"),
            Upload("source", b"new source"),
            {"type": "end_session"},
        ]
        frame, dropped = listener.frame()
        assert frame is not None and (frame.seq, frame.data) == (3, b"frame 3")
        assert dropped == [0, 1, 2]  # replaced before they were taken
        assert listener.frame() == (None, [])
        assert listener.frames_in == 4
    finally:
        listener.stop()


def test_a_reference_upload_and_frames_after_it() -> None:
    link = MemoryLiveLink()
    listener = Listener(link).start()
    try:
        link.put_audio(b"source")
        link.put_command({"type": "reference"})
        link.put_audio(b"reference")
        link.put_frame(b"frame 0", seq=0)
        _settled(listener, link)
        assert listener.items() == [Upload("source", b"source"), Upload("reference", b"reference")]
        frame, dropped = listener.frame()
        assert frame is not None and frame.seq == 0 and dropped == []
    finally:
        listener.stop()


def test_wait_returns_as_soon_as_a_frame_arrives_unless_frames_are_not_due() -> None:
    link = MemoryLiveLink()
    listener = Listener(link).start()
    try:
        link.put_audio(b"source")
        _settled(listener, link)
        listener.items()
        link.put_frame(b"frame 0", seq=0)
        _settled(listener, link)
        started = time.perf_counter()
        listener.wait(2.0)
        assert time.perf_counter() - started < 0.5
        started = time.perf_counter()
        listener.wait(0.3, frames=False)  # a frame waits, but only commands count
        assert time.perf_counter() - started >= 0.25
    finally:
        listener.stop()


def _after_frame_0() -> tuple[MemoryLiveLink, Listener]:
    """A listener that has read the source and frame 0."""
    link = MemoryLiveLink()
    listener = Listener(link).start()
    link.put_audio(b"source")
    link.put_frame(b"frame 0", seq=0)
    _settled(listener, link)
    return link, listener


def test_frames_the_stream_cap_dropped_are_listed_by_the_gateways_numbers() -> None:
    link, listener = _after_frame_0()
    try:
        assert listener.frame()[0] is not None
        link.put_frame(b"frame 4", seq=4)  # 1-3 never came: trimmed from the input stream
        link.put_frame(b"frame 5", seq=5)
        _settled(listener, link)
        frame, dropped = listener.frame()
        assert frame is not None and frame.seq == 5
        assert dropped == [1, 2, 3, 4]
        link.put_command({"type": "end_session"}, frames=9)  # 6-8 lost before it
        _settled(listener, link)
        assert listener.frame() == (None, [6, 7, 8])
        assert listener.frames_in == 9
    finally:
        listener.stop()


def test_a_command_the_stream_cap_dropped_is_reported_as_lost() -> None:
    link, listener = _after_frame_0()
    try:
        listener.items()
        # The cap dropped three messages: a reference command, its image and frame 1.
        link.put_frame(b"frame 2", seq=2, lost=3)
        _settled(listener, link)
        assert listener.items() == [Lost(2)]
        frame, dropped = listener.frame()
        assert frame is not None and frame.seq == 2 and dropped == [0, 1]
        link.put_frame(b"frame 5", seq=5, lost=2)  # frames 3 and 4 alone: nothing else lost
        _settled(listener, link)
        assert listener.items() == []
    finally:
        listener.stop()
