"""Identity through the stack on the hard cases: a grey 112 px source onto a group photo.

The group photo and the thumbnails are ``tests/face_cases.py``'s, composed
from the two public-domain portraits. A ``face-swap`` image job (``mode=all``)
puts Grace Hopper's grey thumbnail on every face of the group, a live session
(``mode=all``) the astronaut's; on the faces of the other person, the dlib
embedding of each swapped face lies closer to the source than to the face it
replaced, and the face region's mean LAB colour stays within ΔE 10.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import cv2
import httpx
import numpy as np
import pytest
from websockets.sync.client import connect

from tests.face_cases import GROUP, delta_e, face_at, faces, grey_thumbnail, group_photo
from tests.integration.stack import Stack, wait_for_job
from visiovox.config import load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.embed import FaceEmbedder
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Image
from visiovox.engines.pool import EnginePool
from visiovox.media.image import read_image

MOST_DELTA_E = 10.0


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnginePool]:
    settings = load_settings(models={"cache_dir": tmp_path_factory.mktemp("identity-models")})
    engines = EnginePool(settings=settings, device="cpu")
    yield engines
    engines.close()


@pytest.fixture(scope="module")
def portraits() -> dict[str, Image]:
    from tests.faces import ASTRONAUT, HOPPER

    return {"astronaut": read_image(ASTRONAUT), "hopper": read_image(HOPPER)}


def _png(image: Image) -> bytes:
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert ok
    return bytes(data.tobytes())


def _rgb(data: bytes) -> Image:
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return np.ascontiguousarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB))


def _check(pool: EnginePool, *, source: Image, group: Image, result: Image, onto: str) -> None:
    """Every face of ``onto`` in ``group`` came out closer to ``source`` than to itself."""
    detector = pool.get("face.detect", FaceDetector)
    landmarker = pool.get("face.landmarks", FaceLandmarker)
    embedder = pool.get("face.embed", FaceEmbedder)
    before, after = faces(detector, landmarker, group), faces(detector, landmarker, result)
    source_face = faces(detector, landmarker, source)[0]
    wanted = embedder.embed(source, source_face)
    checked = 0
    for placed in GROUP:
        if placed.who != onto:
            continue
        original = face_at(before, placed.centre, placed.side)
        swapped = face_at(after, placed.centre, placed.side)
        assert original is not None and swapped is not None, placed
        embedding = embedder.embed(result, swapped)
        to_source = np.linalg.norm(embedding - wanted)
        to_target = np.linalg.norm(embedding - embedder.embed(group, original))
        assert to_source < to_target, (placed, to_source, to_target)
        assert delta_e(group, result, original) <= MOST_DELTA_E, placed
        checked += 1
    assert checked >= 3


@pytest.fixture
def alice(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("alice") as client:
        yield client


def test_an_image_job_puts_a_grey_thumbnail_on_every_face_of_a_group(
    alice: httpx.Client, pool: EnginePool, portraits: dict[str, Image]
) -> None:
    detector = pool.get("face.detect", FaceDetector)
    group = group_photo(detector, portraits)
    source = grey_thumbnail(detector, portraits["hopper"])
    files = {
        "source": ("hopper.png", _png(source), "image/png"),
        "target": ("group.png", _png(group), "image/png"),
    }
    response = alice.post("/v1/jobs/face-swap", files=files, data={"mode": "all"})
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    result = _rgb(alice.get(job["outputs"][0]["url"]).content)
    _check(pool, source=source, group=group, result=result, onto="astronaut")


def test_a_live_frame_of_a_group_gets_a_grey_thumbnail_on_every_face(
    stack: Stack, pool: EnginePool, portraits: dict[str, Image]
) -> None:
    detector = pool.get("face.detect", FaceDetector)
    group = group_photo(detector, portraits)
    source = grey_thumbnail(detector, portraits["astronaut"])
    url = stack.ws_url("/v1/live/face-swap", key=stack.api_keys["alice"])
    with connect(url, max_size=None) as socket:
        socket.send(json.dumps({"type": "start_session", "mode": "all", "jpeg_quality": 95}))
        assert json.loads(socket.recv(timeout=10))["type"] == "session_started"
        socket.send(_png(source))
        assert json.loads(socket.recv(timeout=60)) == {"type": "ready"}
        socket.send(_png(group))
        header = json.loads(socket.recv(timeout=30))
        while header["type"] != "frame":
            header = json.loads(socket.recv(timeout=30))
        assert header["faces"] == len(GROUP), header
        answer = socket.recv(timeout=30)
        assert isinstance(answer, bytes)
        socket.send(json.dumps({"type": "end_session"}))
    _check(pool, source=source, group=group, result=_rgb(answer), onto="hopper")
