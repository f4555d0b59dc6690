"""face-swap through the gateway: a swapped image comes back; bad images get clear errors."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.faces import ASTRONAUT, HOPPER
from tests.integration.stack import Stack, wait_for_job


@pytest.fixture
def alice(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("alice") as client:
        yield client


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares ``width``x``height``: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * (width + 1) * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def blank_png() -> bytes:
    import cv2
    import numpy as np

    ok, encoded = cv2.imencode(".png", np.full((120, 160, 3), 90, dtype=np.uint8))
    assert ok
    return encoded.tobytes()


def post_swap(client: httpx.Client, *, source: bytes, target: bytes) -> httpx.Response:
    files = {
        "source": ("source.png", io.BytesIO(source), "image/png"),
        "target": ("target.png", io.BytesIO(target), "image/png"),
    }
    return client.post("/v1/jobs/face-swap", files=files, data={"mode": "largest"})


def test_swap_returns_an_image(alice: httpx.Client) -> None:
    portrait = ASTRONAUT.read_bytes()
    response = post_swap(alice, source=portrait, target=portrait)
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    assert job["result"]["faces"] == 1
    (output,) = job["outputs"]
    assert output["name"] == "swapped.png"
    assert alice.get(output["url"]).content[:8] == b"\x89PNG\r\n\x1a\n"


def test_reference_mode_with_a_chosen_format(alice: httpx.Client) -> None:
    files = {
        "source": ("hopper.jpg", io.BytesIO(HOPPER.read_bytes()), "image/jpeg"),
        "target": ("target.png", io.BytesIO(ASTRONAUT.read_bytes()), "image/png"),
        "reference": ("reference.png", io.BytesIO(ASTRONAUT.read_bytes()), "image/png"),
    }
    data = {"mode": "reference", "image_format": "webp"}
    response = alice.post("/v1/jobs/face-swap", files=files, data=data)
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    assert job["result"]["faces"] == 1
    (output,) = job["outputs"]
    assert output["name"] == "swapped.webp"
    assert alice.get(output["url"]).content[8:12] == b"WEBP"


def test_reference_mode_without_a_reference_is_refused(alice: httpx.Client) -> None:
    portrait = ASTRONAUT.read_bytes()
    files = {
        "source": ("source.png", io.BytesIO(portrait), "image/png"),
        "target": ("target.png", io.BytesIO(portrait), "image/png"),
    }
    response = alice.post("/v1/jobs/face-swap", files=files, data={"mode": "reference"})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "missing_input" and "reference" in error["message"]


def test_source_without_a_face_fails_the_job(alice: httpx.Client) -> None:
    response = post_swap(alice, source=blank_png(), target=ASTRONAUT.read_bytes())
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=120)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "no_face_found"
    assert "source" in job["error"]["message"]
    assert job["outputs"] == []


@pytest.mark.parametrize(
    ("target", "status", "code"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x07" * 200, 400, "invalid_media"),
        (png_declaring(50_000, 50_000), 413, "too_large"),
        (b"hello, not an image at all", 415, "unsupported_media_type"),
    ],
    ids=["corrupt", "over-pixel-cap", "not-an-image"],
)
def test_bad_images_are_refused(alice: httpx.Client, target: bytes, status: int, code: str) -> None:
    response = post_swap(alice, source=ASTRONAUT.read_bytes(), target=target)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and "target" in error["message"]


def test_swap_in_a_video(alice: httpx.Client, tmp_path: Path) -> None:
    from tests.faces import write_face_video
    from visiovox.media.image import read_image

    clip = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=4)
    files = {
        "source": ("source.png", io.BytesIO(ASTRONAUT.read_bytes()), "image/png"),
        "target": ("clip.mp4", io.BytesIO(clip.read_bytes()), "video/mp4"),
    }
    response = alice.post("/v1/jobs/face-swap", files=files)
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    assert (job["result"]["frames"], job["result"]["audio"]) == (4, "copied")
    (output,) = job["outputs"]
    assert output["name"] == "swapped.mp4"
    assert alice.get(output["url"]).content[4:8] == b"ftyp"


def test_video_over_the_duration_cap(make_stack: Callable[..., Stack], tmp_path: Path) -> None:
    from tests.faces import write_face_video
    from visiovox.media.image import read_image

    stack = make_stack(workers=0, settings={"VISIOVOX_UPLOADS__MAX_DURATION_S": "1"})
    clip = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=10, side=64)
    files = {
        "source": ("source.png", io.BytesIO(ASTRONAUT.read_bytes()), "image/png"),
        "target": ("clip.mp4", io.BytesIO(clip.read_bytes()), "video/mp4"),
    }
    with stack.client() as client:
        response = client.post("/v1/jobs/face-swap", files=files)
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "too_long" and "target" in error["message"]
