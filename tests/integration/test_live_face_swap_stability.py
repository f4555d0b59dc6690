"""Temporal stability of the swap on a slowly moving face: live frames and the video job.

The face (astronaut.png, 240 px) drifts 1 px a frame across a grey 480x360
canvas; grace_hopper.jpg is the source. Inside the face's box, the mean
frame-to-frame change of the output must stay within 1.5x the input's (a face
that shimmers or jumps between frames changes far more than the picture
under it). Both sides are measured on what the codecs hand back: the JPEGs
sent and received (quality 95), the video job's MP4 in and out. The box is
found on the first input frame and follows the known drift.

The ratio is not all jitter: a face with more fine detail than the one it
replaces changes more per pixel of motion. With the landmarks given exactly
(no tracking at all) this pair changes 1.2x at 1 px a frame and 1.6x at a
quarter pixel, where the tracked swap measures the same, so the test moves the
face a pixel a frame, the slowest pace at which the ratio measures stability.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from websockets.sync.client import connect

from tests.faces import ASTRONAUT, HOPPER
from tests.integration.stack import Stack, wait_for_job

WIDTH, HEIGHT, FACE, FRAMES = 480, 360, 240, 30
MOST_CHANGE = 1.5  # output's change over the input's, inside the face box


def _frames() -> list[np.ndarray]:
    """BGR frames: the astronaut 1 px further right each frame."""
    face = cv2.resize(cv2.imread(str(ASTRONAUT)), (FACE, FACE), interpolation=cv2.INTER_AREA)
    shots = []
    for index in range(FRAMES):
        canvas = np.full((HEIGHT, WIDTH, 3), 110, np.uint8)
        left, top = 60 + index, (HEIGHT - FACE) // 2
        canvas[top : top + FACE, left : left + FACE] = face
        shots.append(canvas)
    return shots


def _face_box(frame: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the largest face dlib finds in ``frame`` (BGR)."""
    import dlib

    rects = dlib.get_frontal_face_detector()(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), 1)
    rect = max(rects, key=lambda r: r.area())
    return rect.left(), rect.top(), rect.right(), rect.bottom()


def _change(shots: list[np.ndarray], box: tuple[int, int, int, int]) -> float:
    """Mean absolute change between consecutive frames inside ``box`` (drifting 1 px a frame)."""
    left, top, right, bottom = box
    changes = []
    for index in range(1, len(shots)):
        x0, x1 = left + index, right + index
        now = shots[index][top:bottom, x0:x1].astype(np.int16)
        before = shots[index - 1][top:bottom, x0:x1].astype(np.int16)
        changes.append(float(np.abs(now - before).mean()))
    return float(np.mean(changes))


def _jpeg(frame: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return bytes(data.tobytes())


def _decoded(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def _video_frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    shots = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        shots.append(frame)
    capture.release()
    return shots


@pytest.fixture
def alice(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("alice") as client:
        yield client


def test_live_answers_are_as_steady_as_the_stream(stack: Stack) -> None:
    sent = [_jpeg(frame) for frame in _frames()]
    url = stack.ws_url("/v1/live/face-swap", key=stack.api_keys["alice"])
    answers = []
    with connect(url, max_size=None) as socket:
        socket.send(json.dumps({"type": "start_session", "jpeg_quality": 95}))
        assert json.loads(socket.recv(timeout=10))["type"] == "session_started"
        socket.send(HOPPER.read_bytes())
        assert json.loads(socket.recv(timeout=60)) == {"type": "ready"}
        for seq, data in enumerate(sent):  # one at a time: every frame answered
            socket.send(data)
            header = None
            while header is None or header["type"] != "frame":
                header = json.loads(socket.recv(timeout=30))
            assert (header["seq"], header["faces"]) == (seq, 1), header
            answer = socket.recv(timeout=30)
            assert isinstance(answer, bytes)
            answers.append(_decoded(answer))
        socket.send(json.dumps({"type": "end_session"}))
    inputs = [_decoded(data) for data in sent]
    box = _face_box(inputs[0])
    ratio = _change(answers, box) / _change(inputs, box)
    assert ratio <= MOST_CHANGE, ratio


def test_video_job_output_is_as_steady_as_its_input(alice: httpx.Client, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), 30, (WIDTH, HEIGHT))
    for frame in _frames():
        writer.write(frame)
    writer.release()
    files = {
        "source": ("source.jpg", HOPPER.read_bytes(), "image/jpeg"),
        "target": ("clip.mp4", clip.read_bytes(), "video/mp4"),
    }
    response = alice.post("/v1/jobs/face-swap", files=files)
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    swapped = tmp_path / "swapped.mp4"
    swapped.write_bytes(alice.get(job["outputs"][0]["url"]).content)
    inputs, outputs = _video_frames(clip), _video_frames(swapped)
    assert len(inputs) == len(outputs) == FRAMES
    box = _face_box(inputs[0])
    assert np.abs(outputs[0].astype(np.int16) - inputs[0]).mean() > 1  # a face was swapped
    ratio = _change(outputs, box) / _change(inputs, box)
    assert ratio <= MOST_CHANGE, ratio
