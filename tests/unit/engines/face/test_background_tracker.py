"""BackgroundTracker: detections on their own thread, frames never waiting while a face is
tracked, a face that enters, leaves or is lost picked up again within a few frames."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.unit.engines.face.test_tracker import frames
from visiovox.engines.face.background_tracker import BackgroundTracker, Detections
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import FaceBox, Image

FRAME_S = 1 / 30  # a 30 fps stream
SLOW_S = 0.3


class SlowDetector:
    """The real detector, each detection taking ``SLOW_S`` longer (a loaded machine)."""

    def __init__(self, detector: FaceDetector) -> None:
        self._detector = detector

    def largest(self, image: Image, **kwargs: Any) -> FaceBox | None:
        time.sleep(SLOW_S)
        return self._detector.largest(image, **kwargs)

    def detect(self, image: Image, **kwargs: Any) -> list[FaceBox]:
        time.sleep(SLOW_S)
        return self._detector.detect(image, **kwargs)


@pytest.fixture
def detections() -> Iterator[Detections]:
    pool = Detections()
    yield pool
    pool.close()


def _stream(tracker: BackgroundTracker, shots: list[Image]) -> tuple[list[int], list[float]]:
    """Faces found in each frame, fed at 30 fps, and the seconds each ``faces`` took."""
    counts, costs = [], []
    for shot in shots:
        started = time.perf_counter()
        counts.append(len(tracker.faces(shot)))
        costs.append(time.perf_counter() - started)
        time.sleep(max(0.0, FRAME_S - costs[-1]))
    return counts, costs


def test_frames_never_wait_for_a_detection_while_a_face_is_tracked(
    detector: FaceDetector, landmarker: FaceLandmarker, astronaut: Image, detections: Detections
) -> None:
    tracker = BackgroundTracker(
        SlowDetector(detector),  # type: ignore[arg-type]
        landmarker,
        detections=detections,
        detect_every=3,
        max_faces=1,
        patient=lambda: True,  # the first frame, with nothing tracked, waits for its faces
    )
    counts, costs = _stream(tracker, frames(astronaut, 40, step=2))
    assert counts == [1] * 40
    assert costs[0] >= SLOW_S
    # Detections every few frames went on beside them (each 0.3 s: a dozen frames' time),
    # yet no tracked frame took more than a fraction of one.
    assert tracker.detections >= 3
    assert max(costs[1:]) < SLOW_S / 3, max(costs[1:])


def test_a_face_that_enters_leaves_and_comes_back_is_found_within_a_few_frames(
    detector: FaceDetector, landmarker: FaceLandmarker, astronaut: Image, detections: Detections
) -> None:
    tracker = BackgroundTracker(
        detector, landmarker, detections=detections, detect_every=10, max_faces=1
    )
    moving = frames(astronaut, 30, step=2)
    empty = [np.full_like(moving[0], 90)] * 6
    counts, _ = _stream(tracker, empty + moving[:12] + empty + moving[12:])
    assert counts[:6] == [0] * 6
    entered, left, back = counts[6:18], counts[18:24], counts[24:]
    # Found within a detection's time or two (2-4 frames at 30 fps at load average 3; 8
    # allows for a loaded one), then held on every frame.
    assert entered.index(1) <= 8 and entered[entered.index(1) :] == [1] * (12 - entered.index(1))
    assert left[1:] == [0] * 5  # the track is lost on the first empty frame (or the next)
    assert back.index(1) <= 8 and back[back.index(1) :] == [1] * (18 - back.index(1))
