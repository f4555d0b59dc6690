"""face-swap on a real worker: ``face.detector: auto`` takes BlazeFace once its file is cached.

The target is the astronaut turned 50 degrees in-plane, a face dlib's HOG does
not find and BlazeFace full range does (``docs/benchmarks.md``). Before the
model is in the worker's cache the job fails ``no_face_found`` (HOG ran); once
the file is there (the one the manifest pins, out of the ``mediapipe`` wheel
pip downloads, since the manifest's URL hosts may be unreachable), the next
job on the same worker swaps the face.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
from bench.blazeface import model_bytes

from tests.face_set import load_portraits, rotated, single
from tests.faces import HOPPER
from tests.integration.stack import Stack, wait_for_job
from tests.tools import missing_tool
from visiovox.engines.face.blazeface_decode import FULL_RANGE
from visiovox.engines.face.detect_blazeface import MODEL, MODEL_FILE


def turned_astronaut_png() -> bytes:
    frame = single("steep", "+50", rotated(load_portraits()[0], 50), face_px=150)
    ok, encoded = cv2.imencode(".png", frame.image[:, :, ::-1])
    assert ok
    return encoded.tobytes()


def test_auto_swaps_a_face_hog_misses_once_blazeface_is_cached(
    make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    try:
        model = model_bytes(FULL_RANGE, cache=tmp_path / "download")
    except subprocess.CalledProcessError:
        missing_tool("the mediapipe 0.10.21 wheel from PyPI (pip download mediapipe==0.10.21)")
        raise
    stack = make_stack()
    target = turned_astronaut_png()

    def swap() -> dict[str, object]:
        files = {
            "source": ("hopper.jpg", io.BytesIO(HOPPER.read_bytes()), "image/jpeg"),
            "target": ("target.png", io.BytesIO(target), "image/png"),
        }
        with stack.client() as client:
            response = client.post("/v1/jobs/face-swap", files=files, data={"mode": "largest"})
            assert response.status_code == 202, response.text
            return wait_for_job(client, response.json()["id"], timeout_s=120)

    before = swap()
    assert before["status"] == "failed", before
    assert before["error"]["code"] == "no_face_found", before  # type: ignore[index]

    folder = stack.root / "models" / MODEL
    folder.mkdir(parents=True)
    (folder / MODEL_FILE).write_bytes(model)
    subprocess.run(
        [sys.executable, "-m", "visiovox", "models", "pull", MODEL],
        env={**stack.env, "VISIOVOX_MODELS__OFFLINE": "1"},
        cwd=stack.root,
        check=True,
        capture_output=True,
    )
    after = swap()
    assert after["status"] == "succeeded", after.get("error")
    assert after["result"]["faces"] == 1, after  # type: ignore[index]
