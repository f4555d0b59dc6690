"""dlib detection, landmarks and embeddings on the astronaut portrait."""

from __future__ import annotations

import cv2
import numpy as np

from tests.faces import find_face
from visiovox.engines.face.detect import DETECT_MAX_SIDE, FaceDetector
from visiovox.engines.face.embed import FaceEmbedder
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Image

# dlib's threshold for "the same person" (Euclidean distance of embeddings).
SAME_PERSON = 0.6


def test_detects_the_face_largest_first(detector: FaceDetector, astronaut: Image) -> None:
    boxes = detector.detect(astronaut)
    assert boxes and boxes == sorted(boxes, key=lambda box: box.area, reverse=True)
    face = boxes[0]
    # Her face spans about x 175..265, y 76..166 in the 512x512 portrait.
    assert 150 < face.left < 200 and 240 < face.right < 290
    assert 50 < face.top < 100 and 140 < face.bottom < 190


def test_boxes_map_back_from_the_downscaled_frame(detector: FaceDetector, astronaut: Image) -> None:
    big = cv2.resize(astronaut, (1536, 1536), interpolation=cv2.INTER_CUBIC)
    assert max(big.shape) > DETECT_MAX_SIDE
    small_face, big_face = detector.detect(astronaut)[0], detector.detect(big)[0]
    # HOG boxes snap to its pyramid's scales: compare overlap, not exact edges.
    left, top = max(big_face.left, 3 * small_face.left), max(big_face.top, 3 * small_face.top)
    right = min(big_face.right, 3 * small_face.right)
    bottom = min(big_face.bottom, 3 * small_face.bottom)
    overlap = max(0, right - left) * max(0, bottom - top)
    union = big_face.area + 9 * small_face.area - overlap
    assert overlap / union > 0.6


def test_largest_face_with_a_coarse_pass_first(detector: FaceDetector, astronaut: Image) -> None:
    # 91 px: found by the coarse pass. Shrunk to 45 px: only the full (upsampled) pass sees it.
    for image in (astronaut, cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)):
        largest, full = detector.largest(image), detector.detect(image)[0]
        assert largest is not None
        overlap_w = min(largest.right, full.right) - max(largest.left, full.left)
        overlap_h = min(largest.bottom, full.bottom) - max(largest.top, full.top)
        assert overlap_w * overlap_h > 0.6 * full.area
    assert not detector.detect(cv2.resize(astronaut, (256, 256)), upsample=0)
    assert detector.largest(np.full((120, 160, 3), 90, dtype=np.uint8)) is None


def test_no_face_in_a_blank_image(detector: FaceDetector) -> None:
    assert detector.detect(np.full((300, 400, 3), 128, dtype=np.uint8)) == []


def test_landmarks_sit_on_the_face(
    detector: FaceDetector, landmarker: FaceLandmarker, astronaut: Image
) -> None:
    face = find_face(detector, landmarker, astronaut)
    assert face.points.shape == (68, 2)
    box = face.box
    inner = face.points[17:]
    assert (inner[:, 0] > box.left - 5).all() and (inner[:, 0] < box.right + 5).all()
    eyes_y, mouth_y = face.points[36:48, 1].mean(), face.points[48:68, 1].mean()
    assert eyes_y < face.points[30, 1] < mouth_y  # eyes, nose tip, mouth from the top


def test_embeddings_tell_people_apart(
    detector: FaceDetector,
    landmarker: FaceLandmarker,
    embedder: FaceEmbedder,
    astronaut: Image,
    other_face: Image,
) -> None:
    def embed(image: Image) -> np.ndarray:
        return embedder.embed(image, find_face(detector, landmarker, image))

    original = embed(astronaut)
    assert original.shape == (128,)
    mirrored = embed(np.ascontiguousarray(astronaut[:, ::-1]))
    assert np.linalg.norm(original - mirrored) < SAME_PERSON / 2
    assert np.linalg.norm(original - embed(other_face)) > 0.45


def test_min_score_drops_a_faint_false_face(detector: FaceDetector, astronaut: Image) -> None:
    # At its own size HOG also sees a faint "face" on the astronaut's suit (score ~0.12).
    boxes = detector.detect(astronaut)
    assert len(boxes) == 2 and min(box.score for box in boxes) < 0.2
    (kept,) = detector.detect(astronaut, min_score=0.2)
    assert kept == max(boxes, key=lambda box: box.score)
