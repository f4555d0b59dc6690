"""Face enhancement on a real stack: face-enhance jobs, face-swap's enhance, the live refusal.

The stack runs offline with the stand-in GFPGAN graph (``tests/enhancers.py``:
the face kept, white discs painted on the FFHQ template's five points) in its
model cache under a manifest naming it; CodeFormer is left out of the cache,
so asking for it is the usual ``model_unavailable``.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.enhancers import stand_in_manifest
from tests.faces import ASTRONAUT, HOPPER, write_face_video
from tests.integration.stack import Stack, wait_for_job
from visiovox.media.image import read_image

TIMEOUT_S = 120


@pytest.fixture(scope="module")
def enhance_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("enhance")
    manifest = stand_in_manifest(cache=root / "models", manifest=root / "models.yaml")
    shutil.rmtree(root / "models" / "codeformer")
    deployment = Stack(
        root,
        settings={
            "VISIOVOX_MODELS__MANIFEST": str(manifest),
            "VISIOVOX_MODELS__OFFLINE": "true",
        },
    )
    try:
        deployment.start()
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture
def client(enhance_stack: Stack) -> Iterator[httpx.Client]:
    with enhance_stack.client() as http:
        yield http


def finished(client: httpx.Client, response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    return wait_for_job(client, response.json()["id"], timeout_s=TIMEOUT_S)


def output_image(client: httpx.Client, job: dict[str, Any]) -> np.ndarray:
    (output,) = job["outputs"]
    data = np.frombuffer(client.get(output["url"]).content, dtype=np.uint8)
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def enhance_job(client: httpx.Client, target: Path, kind: str, **data: Any) -> dict[str, Any]:
    files = {"target": (target.name, io.BytesIO(target.read_bytes()), kind)}
    return finished(client, client.post("/v1/jobs/face-enhance", files=files, data=data))


def white_spots(picture: np.ndarray) -> np.ndarray:
    """Pixels near white in every channel (the stand-in's discs)."""
    return np.asarray(picture.min(axis=2) > 240)


def test_the_pipelines_list_face_enhance_and_face_swaps_enhance(client: httpx.Client) -> None:
    listed = {item["name"]: item for item in client.get("/v1/pipelines").json()["data"]}
    enhance = listed["face-enhance"]["params_schema"]["properties"]
    assert set(enhance["enhancer"]["enum"]) == {"gfpgan", "codeformer"}
    swap = listed["face-swap"]["params_schema"]["properties"]
    assert set(swap["enhance"]["enum"]) == {"none", "gfpgan", "codeformer"}
    assert swap["enhance_blend"]["default"] == 0.8


def test_face_enhance_an_image(client: httpx.Client) -> None:
    job = enhance_job(client, ASTRONAUT, "image/png", blend="1")
    assert job["status"] == "succeeded", job
    assert job["result"]["faces"] == 1
    assert job["outputs"][0]["name"] == "enhanced.png"
    result, original = output_image(client, job), read_image(ASTRONAUT)
    # The discs land on the face (eyes at y ~ 100, mouth at y ~ 140, x 195..250) and
    # nothing outside the crop changes.
    added = white_spots(result) & ~white_spots(original)
    rows, cols = np.nonzero(added)
    assert len(rows) >= 5
    assert rows.min() >= 90 and rows.max() <= 150
    assert cols.min() >= 190 and cols.max() <= 255
    assert np.array_equal(result[300:], original[300:])


def test_face_enhance_a_video(client: httpx.Client, tmp_path: Path) -> None:
    clip = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=4)
    job = enhance_job(client, clip, "video/mp4", mode="largest")
    assert job["status"] == "succeeded", job
    assert (job["result"]["frames"], job["result"]["frames_enhanced"]) == (4, 4)
    assert job["outputs"][0]["name"] == "enhanced.mp4"


def test_face_swap_with_gfpgan(client: httpx.Client) -> None:
    def swap(**data: Any) -> np.ndarray:
        files = {
            "source": ("hopper.jpg", io.BytesIO(HOPPER.read_bytes()), "image/jpeg"),
            "target": ("target.png", io.BytesIO(ASTRONAUT.read_bytes()), "image/png"),
        }
        job = finished(client, client.post("/v1/jobs/face-swap", files=files, data=data))
        assert job["status"] == "succeeded", job
        return output_image(client, job)

    plain, enhanced = swap(), swap(enhance="gfpgan", enhance_blend="1")
    added = white_spots(enhanced) & ~white_spots(plain)
    assert added.sum() >= 5
    assert np.array_equal(enhanced[300:], plain[300:])


def test_a_model_not_pulled_fails_the_job_naming_the_pull(client: httpx.Client) -> None:
    job = enhance_job(client, ASTRONAUT, "image/png", enhancer="codeformer")
    assert job["status"] == "failed"
    assert job["error"]["code"] == "model_unavailable"
    assert "visiovox models pull codeformer" in job["error"]["message"]


def test_bad_enhance_params_are_refused(client: httpx.Client) -> None:
    files = {"target": ("a.png", io.BytesIO(ASTRONAUT.read_bytes()), "image/png")}
    response = client.post("/v1/jobs/face-enhance", files=files, data={"blend": "1.5"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_params"


def test_a_cpu_hosted_live_session_refuses_enhancement(enhance_stack: Stack) -> None:
    url = enhance_stack.ws_url("/v1/live/face-swap")
    with connect(url) as socket:
        socket.send(json.dumps({"type": "start_session", "enhance": "gfpgan"}))
        assert json.loads(socket.recv(timeout=10))["type"] == "session_started"
        refused = json.loads(socket.recv(timeout=30))
        assert refused["type"] == "error" and refused["code"] == "unsupported_on_device"
        assert "GPU" in refused["message"]
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)
        assert socket.close_code == 4422
