"""A live face swap under overload: every frame the client sent is answered or listed dropped.

A private one-worker stack whose live streams keep only 10 entries
(``live.stream_maxlen``), so the input stream's cap can be made to lose frames:
the hosting worker is stopped (``SIGSTOP``) while the client streams, and the
gateway's ``XADD MAXLEN ~`` trims what the worker had not read. Each frame
carries its own seq as a white block in its top band (the astronaut's
background), so an answer can be checked to be the picture of the seq it names.
A new source trimmed the same way is reported (``input_dropped``), not lost
silently. Last, a frame too large for the gateway (``live.max_message_bytes``)
keeps its seq and is listed as dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import redis
from websockets.sync.client import ClientConnection, connect

from tests.integration.stack import Stack, wait_until
from visiovox.jobs.live_streams import LiveEntry

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BLOCK = 16  # px: frame N has a white block at x = BLOCK * N in its top rows
FRAMES = 30
MAX_MESSAGE_BYTES = 400_000  # over a frame (~100 kB) and the source (~60 kB)


def _frames() -> list[bytes]:
    astronaut = cv2.imread(str(FIXTURES / "astronaut.png"), cv2.IMREAD_COLOR)
    frames = []
    for seq in range(FRAMES):
        frame = astronaut.copy()
        frame[:BLOCK, BLOCK * seq : BLOCK * (seq + 1)] = 255
        ok, data = cv2.imencode(".jpg", frame)
        assert ok
        frames.append(bytes(data.tobytes()))
    return frames


def _block_seq(image: np.ndarray) -> int:
    """The seq whose block is the whitest in ``image``'s top band."""
    band = image[2 : BLOCK - 2].mean(axis=(0, 2))
    return int(np.argmax([band[BLOCK * s + 2 : BLOCK * (s + 1) - 2].mean() for s in range(FRAMES)]))


@contextlib.contextmanager
def _session(stack: Stack, **fields: Any) -> Iterator[ClientConnection]:
    with connect(stack.ws_url("/v1/live/face-swap"), max_size=None) as socket:
        socket.send(json.dumps({"type": "start_session", **fields}))
        assert json.loads(socket.recv(timeout=10))["type"] == "session_started"
        socket.send((FIXTURES / "grace_hopper.jpg").read_bytes())
        assert json.loads(socket.recv(timeout=30)) == {"type": "ready"}
        yield socket


def _account(
    socket: ClientConnection, errors: list[dict[str, Any]] | None = None
) -> tuple[list[int], list[int], dict[str, Any]]:
    """Messages until every one of the FRAMES seqs is answered or dropped: the answered
    seqs (checked against their pictures), the dropped ones and the last ``stats``; the
    ``error`` messages go to ``errors`` (without it, one fails the test)."""
    answered: list[int] = []
    dropped: list[int] = []
    stats: dict[str, Any] = {}
    deadline = time.monotonic() + 30  # stats come each second: recv alone never times out
    while len(answered) + len(dropped) < FRAMES:
        assert time.monotonic() < deadline, ("seqs unaccounted for", answered, dropped)
        message = json.loads(socket.recv(timeout=30))
        if message["type"] == "frame":
            data = socket.recv(timeout=30)
            assert isinstance(data, bytes)
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            assert _block_seq(image) == message["seq"] % FRAMES, message
            answered.append(message["seq"])
        elif message["type"] == "dropped":
            dropped.extend(message["seqs"])
        elif message["type"] == "stats":
            stats = message
        elif message["type"] == "error" and errors is not None:
            errors.append(message)
        else:
            raise AssertionError(message)
    return answered, dropped, stats


def _until_pushed(stack: Stack, *, last_frame: int) -> None:
    """Wait until the gateway has added frame ``last_frame`` to the session's input stream."""
    client = redis.Redis.from_url(stack.redis.url)
    [stream] = client.scan_iter(match="*:live:*:in")

    def pushed() -> bool:
        newest = client.xrevrange(stream, count=1)
        return bool(newest) and LiveEntry.from_fields(newest[0][1]).frames == last_frame

    wait_until(pushed, timeout_s=30, what=f"frame {last_frame} in the input stream")
    client.close()


def _end(socket: ClientConnection, dropped: int) -> None:
    """End the session, waiting for a ``stats`` that counts ``dropped`` on the way."""
    socket.send(json.dumps({"type": "end_session"}))
    counted = None
    while True:
        message = json.loads(socket.recv(timeout=30))
        if message["type"] == "stats":
            counted = message["dropped"]
        if message["type"] == "session_ended":
            break
    assert counted in (None, dropped)


def test_frames_faster_than_the_worker_answers_are_each_answered_or_dropped(
    make_stack: Any,
) -> None:
    stack: Stack = make_stack(
        settings={
            "VISIOVOX_LIVE__STREAM_MAXLEN": "10",
            "VISIOVOX_LIVE__MAX_MESSAGE_BYTES": str(MAX_MESSAGE_BYTES),
        }
    )
    frames = _frames()
    with _session(stack, max_fps=60) as socket:
        for data in frames:  # a burst: far faster than a swap a frame
            socket.send(data)
        answered, dropped, _ = _account(socket)
        assert sorted(answered + dropped) == list(range(FRAMES)), (answered, dropped)
        assert answered == sorted(answered) and answered[-1] == FRAMES - 1
        assert dropped, "a burst of 30 frames was answered whole"

        # The worker stopped: the input stream keeps 10 entries, the rest are trimmed
        # unread. The trimmed seqs are listed, the rest answered with their own pictures;
        # a new source sent among them is trimmed too, and the client is told to send it
        # again. (The first entry still reaches the worker: Redis answers the read it was
        # blocked in, into its socket, so the source goes after a few frames.)
        host = next(iter(stack.workers.values()))
        os.kill(host.pid, signal.SIGSTOP)
        try:
            for data in frames[:5]:
                socket.send(data)
            socket.send(json.dumps({"type": "source"}))
            socket.send((FIXTURES / "grace_hopper.jpg").read_bytes())
            for data in frames[5:]:
                socket.send(data)
            _until_pushed(stack, last_frame=2 * FRAMES - 1)
        finally:
            os.kill(host.pid, signal.SIGCONT)
        errors: list[dict[str, Any]] = []
        answered_after, dropped_after, _ = _account(socket, errors)
        assert [error["code"] for error in errors] == ["input_dropped"], errors
        assert errors[0]["message"].startswith("2 of your messages other than video frames")
        seqs = [seq - FRAMES for seq in answered_after + dropped_after]
        assert sorted(seqs) == list(range(FRAMES)), (answered_after, dropped_after)
        assert len(dropped_after) >= FRAMES - 12  # ~10 kept (MAXLEN ~), the rest trimmed

        # A frame over live.max_message_bytes is refused by the gateway, yet keeps its seq
        # (2 * FRAMES), listed as dropped: the next frame is answered as 2 * FRAMES + 1.
        socket.send(bytes(MAX_MESSAGE_BYTES + 1))
        assert json.loads(socket.recv(timeout=10))["code"] == "too_large"
        socket.send(frames[1])
        header = json.loads(socket.recv(timeout=30))
        while header["type"] == "stats":
            header = json.loads(socket.recv(timeout=30))
        assert header == {"type": "dropped", "seqs": [2 * FRAMES]}
        header = json.loads(socket.recv(timeout=30))
        assert (header["type"], header["seq"]) == ("frame", 2 * FRAMES + 1), header
        socket.recv(timeout=30)
        _end(socket, len(dropped) + len(dropped_after) + 1)
