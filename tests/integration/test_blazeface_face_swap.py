"""face-swap on a real worker: the offline default detector is BlazeFace full range.

The target is the astronaut turned 50 degrees in-plane, a face dlib's HOG does
not find and BlazeFace full range does (``docs/benchmarks.md``). A fresh stack
with an empty, offline model cache swaps it at once (``face.detector: auto``
takes the file VisioVox's package carries); the same job on a stack set to
``face.detector: hog`` fails ``no_face_found``.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import cv2

from tests.face_set import load_portraits, rotated, single
from tests.faces import HOPPER
from tests.integration.stack import Stack, wait_for_job


def turned_astronaut_png() -> bytes:
    frame = single("steep", "+50", rotated(load_portraits()[0], 50), face_px=150)
    ok, encoded = cv2.imencode(".png", frame.image[:, :, ::-1])
    assert ok
    return encoded.tobytes()


def swap(stack: Stack, target: bytes) -> dict[str, object]:
    files = {
        "source": ("hopper.jpg", io.BytesIO(HOPPER.read_bytes()), "image/jpeg"),
        "target": ("target.png", io.BytesIO(target), "image/png"),
    }
    with stack.client() as client:
        response = client.post("/v1/jobs/face-swap", files=files, data={"mode": "largest"})
        assert response.status_code == 202, response.text
        return wait_for_job(client, response.json()["id"], timeout_s=120)


def test_the_offline_default_swaps_a_face_hog_misses(make_stack: Callable[..., Stack]) -> None:
    target = turned_astronaut_png()
    offline = {"VISIOVOX_MODELS__OFFLINE": "1"}

    bundled = swap(make_stack(settings=offline), target)
    assert bundled["status"] == "succeeded", bundled.get("error")
    assert bundled["result"]["faces"] == 1, bundled  # type: ignore[index]

    hog = swap(make_stack(settings={**offline, "VISIOVOX_FACE__DETECTOR": "hog"}), target)
    assert hog["status"] == "failed", hog
    assert hog["error"]["code"] == "no_face_found", hog  # type: ignore[index]
