"""The BlazeFace full-range engine on the real model file, and ``face.detector``'s choice.

The file is the one the manifest pins (``blazeface-full-range``), bundled in
VisioVox's own package and put in a temporary model cache offline, checked by
size and sha256 (``prepare_model``, as ``visiovox models pull`` does).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.face_set import load_portraits, rotated, single
from visiovox.config import Settings, load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.detect_blazeface import MODEL, BlazeFaceDetector
from visiovox.engines.face.detect_scrfd import preferred_detector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.pool import EnginePool
from visiovox.models import sources
from visiovox.models.cache import prepare_model
from visiovox.models.sources import SourceFailed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    cache = tmp_path_factory.mktemp("blazeface-engine") / "cache"
    settings = load_settings(models={"cache_dir": cache, "offline": True})
    prepare_model(settings, MODEL)  # from the package, checked and marked verified
    return settings


@pytest.fixture(scope="module")
def pool(settings: Settings) -> Iterator[EnginePool]:
    pool = EnginePool(settings=settings, device="cpu")
    yield pool
    pool.close()


def test_the_pool_loads_it_and_dlibs_points_land_as_after_hog(pool: EnginePool) -> None:
    blazeface = pool.get("face.detect_blazeface", BlazeFaceDetector)
    hog = pool.get("face.detect", FaceDetector)
    landmarker = pool.get("face.landmarks", FaceLandmarker)
    for portrait in load_portraits():
        (box,) = blazeface.detect(portrait.image)
        assert box.detected is None  # Wav2Lip builds its box from the landmarks, as after HOG
        (hog_box,) = hog.detect(portrait.image, min_score=0.2)
        ours = landmarker.landmarks(portrait.image, box).points
        hogs = landmarker.landmarks(portrait.image, hog_box).points
        eye_distance = np.linalg.norm(hogs[36:42].mean(axis=0) - hogs[42:48].mean(axis=0))
        assert np.linalg.norm(ours - hogs, axis=1).mean() < 0.05 * eye_distance
        assert 0.85 < (box.right - box.left) / (hog_box.right - hog_box.left) < 1.15


def test_it_finds_a_face_turned_past_hogs_reach(pool: EnginePool) -> None:
    blazeface = pool.get("face.detect_blazeface", BlazeFaceDetector)
    hog = pool.get("face.detect", FaceDetector)
    portrait = load_portraits()[0]
    frame = single("steep", "+50", rotated(portrait, 50), face_px=150)
    assert hog.detect(frame.image, min_score=0.2) == []
    largest = blazeface.largest(frame.image)
    assert largest is not None
    x1, y1, x2, y2 = frame.faces[0]
    assert x1 < (largest.left + largest.right) / 2 < x2
    assert y1 < (largest.top + largest.bottom) / 2 < y2
    assert blazeface.detect(np.zeros((480, 640, 3), np.uint8)) == []


def test_auto_takes_it_bundled_or_cached_and_hog_without_it(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert preferred_detector(settings) == "face.detect_blazeface"
    for choice, name in (
        ("hog", "face.detect"),
        ("scrfd", "face.detect_scrfd"),
        ("blazeface", "face.detect_blazeface"),
    ):
        chosen = settings.model_copy(
            update={"face": settings.face.model_copy(update={"detector": choice})}
        )
        assert preferred_detector(chosen) == name
    empty = settings.model_copy(
        update={"models": settings.models.model_copy(update={"cache_dir": tmp_path})}
    )
    assert preferred_detector(empty) == "face.detect_blazeface"  # the package carries it

    def not_in_package(part: object) -> Path:
        raise SourceFailed("an install without the bundled file")

    monkeypatch.setattr(sources, "package_part_path", not_in_package)
    assert preferred_detector(empty) == "face.detect"
    assert preferred_detector(settings) == "face.detect_blazeface"  # cached still counts
