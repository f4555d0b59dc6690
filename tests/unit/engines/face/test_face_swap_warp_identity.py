"""The warp engine's identity transfer on real photographs and their hard cases.

Two real, different people (``tests/face_cases.py``): each swapped onto the
other, a grey 112 px thumbnail of each swapped onto the other, and the other
person swapped onto each of the seven small, rotated, mirrored or turned faces
of a group photo composed from them. In every case, in both blend modes
(``seamless``: image jobs; ``feather``: live frames and video), the dlib
embedding of the output face lies closer to the source than to the face it
replaced, and the face keeps the target's skin tone and light: its mean LAB
colour within ΔE 10 of the original region's.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.face_cases import GROUP, delta_e, face_at, faces, grey_thumbnail, group_photo
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.embed import FaceEmbedder
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.swap_base import BlendMode
from visiovox.engines.face.swap_warp import WarpSwapper
from visiovox.engines.face.types import Face, Image

MODES: tuple[BlendMode, ...] = ("seamless", "feather")
MOST_DELTA_E = 10.0


class Judge:
    """Swaps with the warp engine and measures the result against source and target."""

    def __init__(
        self,
        detector: FaceDetector,
        landmarker: FaceLandmarker,
        embedder: FaceEmbedder,
        swapper: WarpSwapper,
    ) -> None:
        self.detector, self.landmarker = detector, landmarker
        self.embedder, self.swapper = embedder, swapper

    def faces(self, image: Image) -> list[Face]:
        return faces(self.detector, self.landmarker, image)

    def swap(
        self, source: Image, target: Image, target_face: Face, mode: BlendMode
    ) -> tuple[float, float, float]:
        """(distance to the source, distance to the replaced face, ΔE of the region)."""
        source_face = self.faces(source)[0]
        prepared = self.swapper.prepare(source, source_face)
        result = self.swapper.apply(prepared, target=target, target_face=target_face, mode=mode)
        box = target_face.box
        centre = ((box.left + box.right) / 2, (box.top + box.bottom) / 2)
        swapped = face_at(self.faces(result), centre, box.right - box.left)
        assert swapped is not None, "no face where the swapped one should be"
        embedding = self.embedder.embed(result, swapped)
        to_source = np.linalg.norm(embedding - self.embedder.embed(source, source_face))
        to_target = np.linalg.norm(embedding - self.embedder.embed(target, target_face))
        return float(to_source), float(to_target), delta_e(target, result, target_face)


@pytest.fixture(scope="module")
def judge(
    detector: FaceDetector, landmarker: FaceLandmarker, embedder: FaceEmbedder, swapper: WarpSwapper
) -> Judge:
    return Judge(detector, landmarker, embedder, swapper)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("grey", [False, True], ids=["colour-portrait", "grey-112px"])
@pytest.mark.parametrize("onto", ["astronaut", "hopper"])
def test_each_person_onto_the_other(
    judge: Judge, astronaut: Image, hopper: Image, onto: str, grey: bool, mode: BlendMode
) -> None:
    target, source = (astronaut, hopper) if onto == "astronaut" else (hopper, astronaut)
    if grey:
        source = grey_thumbnail(judge.detector, source)
    to_source, to_target, shift = judge.swap(source, target, judge.faces(target)[0], mode)
    assert to_source < to_target, (to_source, to_target)
    assert shift <= MOST_DELTA_E, shift


@pytest.mark.parametrize("mode", MODES)
def test_the_other_person_onto_each_face_of_a_group(
    judge: Judge, astronaut: Image, hopper: Image, mode: BlendMode
) -> None:
    portraits = {"astronaut": astronaut, "hopper": hopper}
    group = group_photo(judge.detector, portraits)
    found = judge.faces(group)
    results = []
    for placed in GROUP:
        target_face = face_at(found, placed.centre, placed.side)
        assert target_face is not None, f"{placed} not detected"
        other = hopper if placed.who == "astronaut" else astronaut
        results.append((placed, *judge.swap(other, group, target_face, mode)))
    for placed, to_source, to_target, shift in results:
        assert to_source < to_target, (placed, to_source, to_target)
        assert shift <= MOST_DELTA_E, (placed, shift)
