"""WS /v1/live/face-swap against a real stack: a worker hosts the session, the gateway relays.

grace_hopper.jpg is the source face, astronaut.png (shifted a little from
frame to frame) the video. A private stack with a short idle timeout, so the
idle test ends in seconds; every other test keeps its session busy.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.integration.stack import Stack, wait_for_job, wait_until

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
IDLE_TIMEOUT_S = 4
LEASE_S = 30.0  # jobs.lease_s's default
TIMEOUT_S = 30


@pytest.fixture(scope="module")
def face_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    deployment = Stack(
        tmp_path_factory.mktemp("face-live"),
        settings={
            "VISIOVOX_AUTH__ENABLED": "on",
            "VISIOVOX_LIVE__IDLE_TIMEOUT_S": str(IDLE_TIMEOUT_S),
        },
    )
    try:
        deployment.start(owners=("alice", "bob"))
        yield deployment
    finally:
        deployment.stop()


def _encode(image: np.ndarray, ext: str = ".jpg") -> bytes:
    ok, data = cv2.imencode(ext, image)
    assert ok
    return bytes(data.tobytes())


@pytest.fixture(scope="module")
def source() -> bytes:
    return (FIXTURES / "grace_hopper.jpg").read_bytes()


@pytest.fixture(scope="module")
def video() -> list[np.ndarray]:
    """Astronaut frames (BGR), the face moving 2 px a frame."""
    astronaut = cv2.imread(str(FIXTURES / "astronaut.png"), cv2.IMREAD_COLOR)
    return [np.roll(astronaut, 2 * index, axis=1) for index in range(6)]


def _url(stack: Stack, key: str | None = None) -> str:
    return stack.ws_url("/v1/live/face-swap", key=key or stack.api_keys["alice"])


@contextlib.contextmanager
def _session(stack: Stack, source: bytes | None, **fields: Any) -> Iterator[ClientConnection]:
    """A started session; with ``source``, sent and ``ready`` awaited."""
    with connect(_url(stack), max_size=None) as socket:
        socket.send(json.dumps({"type": "start_session", **fields}))
        started = json.loads(socket.recv(timeout=10))
        assert started["type"] == "session_started" and started["session_id"], started
        socket.job_id = started["job_id"]  # type: ignore[attr-defined]
        if source is not None:
            socket.send(source)
            assert _next(socket) == {"type": "ready"}
        yield socket


def _next(socket: ClientConnection) -> Any:
    """The next message but ``stats`` (JSON as a dict, binary as bytes)."""
    while True:
        message = socket.recv(timeout=TIMEOUT_S)
        if isinstance(message, bytes):
            return message
        payload = json.loads(message)
        if payload["type"] != "stats":
            return payload


def _answer(socket: ClientConnection) -> tuple[dict[str, Any], np.ndarray]:
    """A ``frame`` message and its swapped JPEG, decoded (BGR)."""
    header = _next(socket)
    assert header["type"] == "frame", header
    data = _next(socket)
    assert isinstance(data, bytes) and data[:2] == b"\xff\xd8"
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return header, image


def _end(socket: ClientConnection) -> None:
    socket.send(json.dumps({"type": "end_session"}))
    assert _next(socket) == {"type": "session_ended", "reason": "end_session"}
    with pytest.raises(ConnectionClosed):
        socket.recv(timeout=10)
    assert socket.close_code == 1000


def _closed_with(stack: Stack, first: str | bytes, *, key: str | None = None) -> int | None:
    with connect(_url(stack, key)) as socket:
        socket.send(first)
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)
        return socket.close_code


def test_frames_are_answered_in_order_with_the_face_swapped(
    face_stack: Stack, source: bytes, video: list[np.ndarray]
) -> None:
    with _session(face_stack, source, jpeg_quality=90) as socket:
        for seq, frame in enumerate(video):
            socket.send(_encode(frame))
            header, swapped = _answer(socket)
            assert header["seq"] == seq and header["faces"] == 1
            assert 0 < header["latency_ms"] < 10_000
            assert swapped.shape == frame.shape
            # The face changed; the picture around it did not (beyond JPEG's loss).
            change = np.abs(swapped.astype(np.int16) - frame.astype(np.int16)).mean(axis=2)
            assert (change > 20).sum() > 2_000
            assert np.median(change) < 6
        _end(socket)
        job_id = socket.job_id  # type: ignore[attr-defined]
    with face_stack.client("alice") as client:
        job = wait_for_job(client, job_id)
    assert job["status"] == "succeeded", job
    assert job["result"]["frames_out"] == len(video)


def test_faceless_source_bad_frames_and_faceless_frames_leave_the_session_going(
    face_stack: Stack, source: bytes, video: list[np.ndarray]
) -> None:
    blank = np.full((240, 320, 3), 128, np.uint8)
    with _session(face_stack, None) as socket:
        socket.send(_encode(blank, ".png"))
        refused = _next(socket)
        assert refused["type"] == "error" and refused["code"] == "no_face_found"
        socket.send(json.dumps({"type": "source"}))
        socket.send(source)
        assert _next(socket) == {"type": "ready"}
        socket.send(b"not an image at all")  # frame 0
        assert _next(socket)["code"] == "invalid_media"
        socket.send(_encode(np.zeros((1100, 1900, 3), np.uint8), ".png"))  # frame 1
        assert _next(socket)["code"] == "too_large"
        socket.send(_encode(blank, ".webp"))  # frame 2: no face, back unchanged
        header, answered = _answer(socket)
        assert (header["seq"], header["faces"]) == (2, 0)
        assert np.abs(answered.astype(np.int16) - 128).max() <= 3
        socket.send(_encode(video[0]))  # frame 3
        header, _ = _answer(socket)
        assert (header["seq"], header["faces"]) == (3, 1)
        _end(socket)


def test_frames_over_max_fps_are_dropped_and_listed(
    face_stack: Stack, source: bytes, video: list[np.ndarray]
) -> None:
    frames = [_encode(frame) for frame in video]
    with _session(face_stack, source, max_fps=1) as socket:
        socket.send(frames[0])
        header, _ = _answer(socket)
        assert header["seq"] == 0
        for data in frames[1:]:  # all within the second: only the newest is answered
            socket.send(data)
        assert _next(socket) == {"type": "dropped", "seqs": list(range(1, len(frames) - 1))}
        header, _ = _answer(socket)
        assert header["seq"] == len(frames) - 1
        stats = None
        while stats is None:
            message = json.loads(socket.recv(timeout=TIMEOUT_S))
            stats = message if message["type"] == "stats" else None
        assert stats["dropped"] == len(frames) - 2
        assert set(stats) == {
            "type", "fps_in", "fps_out", "latency_ms_p50", "latency_ms_p95", "dropped",
            "dropped_out",
        }  # fmt: skip
        assert stats["dropped_out"] == 0  # nothing lost on the way back
        socket.send(json.dumps({"type": "ping"}))
        assert _next(socket) == {"type": "pong"}
        _end(socket)


def test_frames_waiting_when_the_session_ends_are_listed_before_it_ends(
    face_stack: Stack, source: bytes, video: list[np.ndarray]
) -> None:
    with _session(face_stack, source, max_fps=1) as socket:
        socket.send(_encode(video[0]))
        header, _ = _answer(socket)  # answered at once
        assert header["seq"] == 0
        for frame in video[1:3]:  # these wait for the next second
            socket.send(_encode(frame))
        socket.send(json.dumps({"type": "end_session"}))
        assert _next(socket) == {"type": "dropped", "seqs": [1, 2]}
        assert _next(socket) == {"type": "session_ended", "reason": "end_session"}


def test_an_idle_session_ends_by_itself_and_its_job_succeeds(
    face_stack: Stack, source: bytes
) -> None:
    with _session(face_stack, source) as socket:
        assert _next(socket) == {"type": "session_ended", "reason": "idle"}
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)
        assert socket.close_code == 1000
        job_id = socket.job_id  # type: ignore[attr-defined]
    with face_stack.client("alice") as client:
        assert wait_for_job(client, job_id)["status"] == "succeeded"


def test_bad_keys_first_messages_and_params_close_the_socket(face_stack: Stack) -> None:
    start = json.dumps({"type": "start_session"})
    assert _closed_with(face_stack, start, key="vv-bad") == 4401
    assert _closed_with(face_stack, b"\xff\xd8") == 4400
    assert _closed_with(face_stack, json.dumps({"type": "ping"})) == 4400
    for bad in (
        {"mode": "nearest"},
        {"engine": "magic"},
        {"blend": 1.5},
        {"jpeg_quality": 40},
        {"max_fps": 0},
        {"max_fps": "30"},
        {"colour": "blue"},
    ):
        assert _closed_with(face_stack, json.dumps({"type": "start_session", **bad})) == 4422, bad


def test_inswapper_without_its_weights_is_refused_at_once(face_stack: Stack) -> None:
    with connect(_url(face_stack)) as socket:
        socket.send(json.dumps({"type": "start_session", "engine": "inswapper"}))
        assert json.loads(socket.recv(timeout=10))["type"] == "session_started"
        refused = _next(socket)
        assert refused["type"] == "error" and refused["code"] == "model_unavailable"
        assert "visiovox models pull" in refused["message"]
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)
        assert socket.close_code == 4422
    with face_stack.client("alice") as client:
        answer = client.post("/v1/jobs/face-swap-live", json={})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "live_pipeline"


def test_reference_mode_swaps_only_the_reference_person_and_the_source_can_change(
    face_stack: Stack, source: bytes, video: list[np.ndarray]
) -> None:
    astronaut = (FIXTURES / "astronaut.png").read_bytes()
    with _session(face_stack, source, mode="reference") as socket:
        socket.send(json.dumps({"type": "reference"}))
        socket.send(source)  # grace_hopper: nobody in the astronaut frames
        socket.send(_encode(video[0]))
        header, answered = _answer(socket)
        assert (header["seq"], header["faces"]) == (0, 0)
        change = np.abs(answered.astype(np.int16) - video[0]).mean(axis=2)
        assert (change > 20).sum() < 1_000  # unchanged but for JPEG (a swap: over 3 000)
        socket.send(json.dumps({"type": "reference"}))
        socket.send(astronaut)
        socket.send(_encode(video[1]))
        header, _ = _answer(socket)
        assert (header["seq"], header["faces"]) == (1, 1)
        socket.send(json.dumps({"type": "source"}))  # mid-stream
        socket.send(astronaut)
        assert _next(socket) == {"type": "ready"}
        socket.send(_encode(video[2]))
        header, _ = _answer(socket)
        assert (header["seq"], header["faces"]) == (2, 1)
        _end(socket)


def test_a_client_that_vanishes_frees_the_session(
    face_stack: Stack, source: bytes, video: list[np.ndarray]
) -> None:
    with face_stack.client("alice") as client:
        with _session(face_stack, source) as socket:
            job_id = socket.job_id  # type: ignore[attr-defined]
            for frame in video:  # mid-stream: frames still coming when it goes
                socket.send(_encode(frame))
            answer = _next(socket)
            while answer["type"] == "dropped":  # a burst: older frames give way to newer
                answer = _next(socket)
            assert answer["type"] == "frame", answer
            host = _hosting(client, job_id)
            assert host is not None
            socket.close_socket()  # gone: no close handshake, no end_session
        vanished_at = time.monotonic()
        # The worker lets the session go well within the lease (jobs.lease_s: 30 s by
        # default): the cancel is polled between frames, the worker's status follows.
        wait_until(
            lambda: _hosting(client, job_id) is None, timeout_s=LEASE_S, what="the worker freed"
        )
        assert time.monotonic() - vanished_at < LEASE_S
        assert wait_for_job(client, job_id, timeout_s=10)["status"] == "canceled"
        # ... and hosts the next session at once.
        with _session(face_stack, source) as socket:
            assert _hosting(client, socket.job_id)["name"] == host["name"]  # type: ignore[attr-defined, index]
            _end(socket)


def test_another_owner_cannot_reach_a_session(
    face_stack: Stack, source: bytes, video: list[np.ndarray]
) -> None:
    bob = face_stack.api_keys["bob"]
    with _session(face_stack, source) as socket, face_stack.client("bob") as client:
        job_id = socket.job_id  # type: ignore[attr-defined]
        for answer in (
            client.get(f"/v1/jobs/{job_id}"),
            client.delete(f"/v1/jobs/{job_id}"),
            client.get(f"/v1/jobs/{job_id}/events"),
        ):
            assert answer.status_code == 404, answer.text
            assert answer.json()["error"]["code"] == "job_not_found"
        assert job_id not in {job["id"] for job in client.get("/v1/jobs").json()["data"]}
        named = json.dumps({"type": "start_session", "session_id": job_id})
        assert _closed_with(face_stack, named, key=bob) == 4422  # no such choice: not joined
        # Naming it in the query gets bob a session of his own (queued: the one worker
        # hosts alice's); what he sends never reaches hers, whose next frame is still 0.
        with connect(f"{_url(face_stack, bob)}&session_id={job_id}", max_size=None) as other:
            other.send(json.dumps({"type": "start_session"}))
            started = json.loads(other.recv(timeout=10))
            assert started["type"] == "session_started" and started["job_id"] != job_id
            for frame in video:
                other.send(_encode(frame))
            socket.send(_encode(video[0]))
            header, _ = _answer(socket)
            assert (header["seq"], header["faces"]) == (0, 1)
        _end(socket)
    with face_stack.client("alice") as client:
        assert wait_for_job(client, job_id)["status"] == "succeeded"


def _hosting(client: httpx.Client, job_id: str) -> dict[str, Any] | None:
    """The worker registration whose current job is ``job_id``."""
    workers = client.get("/v1/workers").json()["data"]
    return next((w for w in workers if w["current_job"] == job_id), None)


def _samples(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``/metrics`` as {(name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
    }


def test_the_hosted_session_shows_in_workers_and_metrics(
    face_stack: Stack, source: bytes, video: list[np.ndarray]
) -> None:
    with face_stack.client("alice") as client, _session(face_stack, source) as socket:
        job_id = socket.job_id  # type: ignore[attr-defined]
        for frame in video:
            socket.send(_encode(frame))
            _answer(socket)

        def reported() -> dict[str, Any] | None:
            worker = _hosting(client, job_id)
            session = worker and worker["live_session"]
            return session if session and session["frames_out"] == len(video) else None

        # Figures go out with each second's stats, then with the next heartbeat (0.5 s),
        # well within the idle timeout counted from the last frame.
        session = wait_until(reported, timeout_s=IDLE_TIMEOUT_S - 1, what="live_session")
        assert session["frames_in"] == len(video) and session["dropped"] == 0
        assert session["latency_buckets"][-1] == len(video)
        assert 0 < session["latency_ms_p50"] <= session["latency_ms_p95"]
        samples = _samples(client)
        face = (("pipeline", "face-swap-live"),)
        assert samples[("visiovox_live_sessions_by_pipeline", face)] == 1
        assert (
            samples[("visiovox_live_sessions_by_pipeline", (("pipeline", "assistant-live"),))] == 0
        )
        for kind, count in (("dropped", 0), ("in", len(video)), ("out", len(video))):
            assert samples[("visiovox_live_frames", (("kind", kind), *face))] == count
        inf = (("le", "+Inf"), *face)
        assert samples[("visiovox_live_latency_ms_bucket", inf)] == len(video)
        assert samples[("visiovox_live_latency_ms_gsum", face)] > 0
        _end(socket)
        wait_until(lambda: _hosting(client, job_id) is None, timeout_s=10, what="the session gone")
        assert _samples(client)[("visiovox_live_frames", (("kind", "out"), *face))] == 0
