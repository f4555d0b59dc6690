"""The warp swap moves identity: the result's face is the source's, not the target's."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.faces import find_face
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.embed import FaceEmbedder
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.swap_base import BlendMode
from visiovox.engines.face.swap_warp import WarpSwapper
from visiovox.engines.face.types import Image


def test_swap_transfers_identity(
    detector: FaceDetector,
    landmarker: FaceLandmarker,
    embedder: FaceEmbedder,
    swapper: WarpSwapper,
    astronaut: Image,
    other_face: Image,
) -> None:
    face_a = find_face(detector, landmarker, astronaut)
    face_b = find_face(detector, landmarker, other_face)
    result = swapper.swap(
        source=other_face, source_face=face_b, target=astronaut, target_face=face_a
    )
    assert result.shape == astronaut.shape and result.dtype == np.uint8
    swapped = embedder.embed(result, find_face(detector, landmarker, result))
    to_a = np.linalg.norm(swapped - embedder.embed(astronaut, face_a))
    to_b = np.linalg.norm(swapped - embedder.embed(other_face, face_b))
    assert to_b < to_a, (to_a, to_b)
    assert to_b < 0.4


@pytest.mark.parametrize("mode", ["seamless", "feather"])
def test_swap_moves_one_real_person_onto_another(
    detector: FaceDetector,
    landmarker: FaceLandmarker,
    embedder: FaceEmbedder,
    swapper: WarpSwapper,
    astronaut: Image,
    hopper: Image,
    mode: BlendMode,
) -> None:
    face_a = find_face(detector, landmarker, astronaut)
    face_h = find_face(detector, landmarker, hopper)
    prepared = swapper.prepare(hopper, face_h)
    result = swapper.apply(prepared, target=astronaut, target_face=face_a, mode=mode)
    swapped = embedder.embed(result, find_face(detector, landmarker, result))
    to_a = np.linalg.norm(swapped - embedder.embed(astronaut, face_a))
    to_h = np.linalg.norm(swapped - embedder.embed(hopper, face_h))
    assert to_h < to_a, (to_a, to_h)
    assert to_h < 0.45


def test_only_the_face_changes_and_blend_zero_keeps_it(
    detector: FaceDetector,
    landmarker: FaceLandmarker,
    swapper: WarpSwapper,
    astronaut: Image,
    other_face: Image,
) -> None:
    face_a = find_face(detector, landmarker, astronaut)
    face_b = find_face(detector, landmarker, other_face)
    kwargs = {"source": other_face, "source_face": face_b, "target": astronaut}
    result = swapper.swap(target_face=face_a, **kwargs)  # type: ignore[arg-type]
    region = np.zeros(astronaut.shape[:2], dtype=np.uint8)
    box = face_a.box
    pad = (box.right - box.left) // 2
    region[max(0, box.top - pad) : box.bottom + pad, max(0, box.left - pad) : box.right + pad] = 1
    changed = np.abs(result.astype(int) - astronaut).max(axis=2) > 0
    assert changed[region > 0].mean() > 0.1
    assert not changed[region == 0].any()
    kept = swapper.swap(target_face=face_a, blend=0.0, **kwargs)  # type: ignore[arg-type]
    assert np.array_equal(kept, astronaut)
    half = swapper.swap(target_face=face_a, blend=0.5, **kwargs)  # type: ignore[arg-type]
    diff_half = cv2.absdiff(half, astronaut).sum()
    assert 0 < diff_half < cv2.absdiff(result, astronaut).sum()
