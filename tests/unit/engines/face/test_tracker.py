"""FaceTracker: landmarks followed between periodic detections, re-detection when a face is lost."""

from __future__ import annotations

import cv2
import numpy as np

from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.tracker import FaceTracker
from visiovox.engines.face.types import Face, Image

SIDE = 320


def frames(portrait: Image, count: int, *, step: int = 3) -> list[Image]:
    """``portrait`` on a grey canvas, moving ``step`` pixels right and down each frame."""
    face = cv2.resize(portrait, (240, 240), interpolation=cv2.INTER_AREA)
    shots = []
    for index in range(count):
        canvas = np.full((SIDE, SIDE, 3), 90, dtype=np.uint8)
        x = y = 20 + step * index
        canvas[y : y + 240, x : x + 240] = face[: SIDE - y, : SIDE - x]
        shots.append(canvas)
    return shots


def test_landmarks_are_tracked_between_detections(
    detector: FaceDetector, landmarker: FaceLandmarker, astronaut: Image
) -> None:
    tracker = FaceTracker(detector, landmarker, detect_every=5, max_faces=1)
    errors = []
    for frame in frames(astronaut, 12):
        found = tracker.faces(frame)
        assert len(found) == 1
        # HOG also finds a faint false face on the suit in some frames: take its best.
        best = max(detector.detect(frame), key=lambda box: box.score)
        fresh = landmarker.landmarks(frame, best)
        errors.append(float(np.abs(found[0].points - fresh.points).mean()))
    assert tracker.detections == 3  # frames 0, 5 and 10
    # Tracked points stay within a pixel or two of what a full detection finds.
    assert max(errors) < 2.0, errors


def test_a_lost_face_is_detected_again(
    detector: FaceDetector, landmarker: FaceLandmarker, astronaut: Image
) -> None:
    shots = frames(astronaut, 5)
    shots[2] = np.full_like(shots[2], 90)  # a cut to an empty frame
    tracker = FaceTracker(detector, landmarker, detect_every=100)
    counts = [len(tracker.faces(frame)) for frame in shots]
    assert counts == [1, 1, 0, 1, 1]
    # Frame 0; frame 2, where the track is lost; frame 3, with nothing tracked.
    assert tracker.detections == 3


def test_each_face_is_judged_once_and_rejected_faces_stay_tracked(
    detector: FaceDetector, landmarker: FaceLandmarker, astronaut: Image
) -> None:
    asked: list[Face] = []

    def reject(_frame: Image, face: Face) -> bool:
        asked.append(face)
        return False

    tracker = FaceTracker(detector, landmarker, detect_every=3, accept=reject)
    counts = [len(tracker.faces(frame)) for frame in frames(astronaut, 8)]
    assert counts == [0] * 8
    assert tracker.detections == 3  # frames 0, 3 and 6: not every frame
    assert len(asked) == 1  # the later detections continue the same face


def test_a_face_rolled_past_the_detector_stays_tracked(
    detector: FaceDetector, landmarker: FaceLandmarker, astronaut: Image
) -> None:
    # The head rolls 6 degrees a frame to 60; past ~45 HOG no longer finds it.
    angles = list(range(0, 66, 6))
    shots = [
        cv2.warpAffine(
            astronaut,
            cv2.getRotationMatrix2D((220, 120), angle, 1.0),
            (512, 512),
            borderMode=cv2.BORDER_REPLICATE,
        )
        for angle in angles
    ]
    assert not detector.detect(shots[-1], min_score=0.2)
    tracker = FaceTracker(detector, landmarker, detect_every=5, max_faces=1, min_score=0.2)
    rolls = []
    for frame in shots:
        (face,) = tracker.faces(frame)
        eyes = face.points[42:48].mean(axis=0) - face.points[36:42].mean(axis=0)
        rolls.append(float(np.degrees(np.arctan2(-eyes[1], eyes[0]))))
    # The eye line turns with the head (her eyes are ~3 degrees off level upright).
    offset = rolls[0]
    assert all(abs(roll - offset - angle) < 5 for roll, angle in zip(rolls, angles, strict=True))
    assert tracker.detections == 3  # frames 0, 5 and 10: the last one missed, the track kept
