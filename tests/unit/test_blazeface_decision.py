"""BlazeFace short-range on the real model file, and the offline-default decision it lost.

The model comes the way the benchmark gets it: ``face_detection_short_range.tflite``
out of the ``mediapipe`` 0.10.21 wheel (Apache-2.0) that pip downloads from
PyPI, checked by size and sha256; without PyPI the tests skip (fail under CI).
The counts are those of ``docs/benchmarks.md`` ("Offline face detector: HOG vs
BlazeFace"), on the set of ``tests/face_set.py``.
"""

from __future__ import annotations

import subprocess

import pytest
from bench.blazeface import BlazeFace, model_bytes

from tests.face_set import build_set, count_found, load_portraits
from tests.tools import missing_tool
from visiovox.config import Settings
from visiovox.engines.face.detect import FaceDetector

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def blazeface(tmp_path_factory: pytest.TempPathFactory) -> BlazeFace:
    try:
        model = model_bytes(cache=tmp_path_factory.mktemp("blazeface"))
    except subprocess.CalledProcessError:
        missing_tool("the mediapipe 0.10.21 wheel from PyPI (pip download mediapipe==0.10.21)")
    return BlazeFace(model)


def test_the_converted_graph_finds_the_astronaut_and_places_her_keypoints(
    blazeface: BlazeFace,
) -> None:
    astronaut = load_portraits()[0]
    found = blazeface.detections(astronaut.image)
    assert len(found.scores) == 1 and found.scores[0] > 0.9
    x1, y1, x2, y2 = astronaut.box
    centre = found.boxes[0].reshape(2, 2).mean(axis=0)
    assert x1 < centre[0] < x2 and y1 < centre[1] < y2
    eyes, nose, mouth = found.keypoints[0, :2], found.keypoints[0, 2], found.keypoints[0, 3]
    middle = (y1 + y2) / 2
    assert (eyes[:, 1] < middle).all() and mouth[1] > middle
    assert eyes[:, 1].max() < nose[1] < mouth[1]
    # The subject's right eye (keypoint 0) is on the image's left.
    assert eyes[0, 0] < nose[0] < eyes[1, 0]


def test_blazeface_finds_fewer_faces_than_hog_so_hog_stays_the_default(
    blazeface: BlazeFace,
) -> None:
    settings = Settings()
    hog = FaceDetector(settings=settings, device="cpu")
    hog.load()
    frames = build_set()
    found: dict[str, dict[tuple[str, str], int]] = {"hog": {}, "blazeface": {}}
    for frame in frames:
        for name, boxes in (
            ("hog", hog.detect(frame.image, min_score=settings.face.hog_min_score)),
            ("blazeface", blazeface.detect(frame.image)),
        ):
            hits, false = count_found(frame, boxes)
            assert false == 0, (name, frame.name)
            found[name][frame.group, frame.name] = hits
    known = sum(len(frame.faces) for frame in frames)
    assert (known, sum(found["hog"].values()), sum(found["blazeface"].values())) == (26, 26, 19)
    # BlazeFace finds every upright, mirrored and turned face, and no face under ~70 px.
    large = [(f.group, f.name) for f in frames if f.group not in ("small", "group")]
    assert all(found["blazeface"][key] == 1 for key in large)
    small = {key: hits for key, hits in found["blazeface"].items() if key[0] == "small"}
    assert small == {
        ("small", f"{who} {px} px"): int(px == 80)
        for who in ("astronaut", "hopper")
        for px in (40, 60, 80)
    }
