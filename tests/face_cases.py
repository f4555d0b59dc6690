"""Hard cases for the face swap's identity, built from the two public-domain portraits.

``ASTRONAUT`` (Eileen Collins, NASA photograph) and ``HOPPER`` (Grace Hopper,
US Navy photograph) are both in the public domain, so a group photo composed
from them is too: ``group_photo`` pastes seven copies, each cropped around the
face, scaled to 67-113 px faces, and rotated in the picture's plane, mirrored
or turned (a perspective squeeze, as a head turned to one side), on a grey
gradient. ``grey_thumbnail`` is a portrait's face cropped, turned grey and
shrunk to 112 px: a poor, colourless source.

``delta_e`` measures what a swap did to the skin tone and light of a face: the
mean CIE LAB colour of the face's region (its landmarks' hull) before and
after, apart by ΔE (CIE76).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Face, Image
from visiovox.engines.face.warp import hull_mask

# dlib's HOG finds a faint false face on the astronaut's suit; real faces score over this.
MIN_SCORE = 0.2


@dataclass(frozen=True)
class Placed:
    """One copy of a portrait in the group: whose face, and the square it fills."""

    who: str  # "astronaut" or "hopper"
    x: int
    y: int
    side: int
    angle: float = 0.0  # degrees, in the picture's plane
    flip: bool = False
    turn: float = 0.0  # share of the side the far edge is squeezed by

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.side / 2, self.y + self.side / 2


GROUP = (
    Placed("hopper", 20, 40, 170, angle=15),
    Placed("astronaut", 220, 60, 150, flip=True),
    Placed("hopper", 400, 50, 140, turn=0.25),
    Placed("astronaut", 580, 40, 180, angle=-15),
    Placed("astronaut", 60, 300, 140, turn=0.2, flip=True),
    Placed("hopper", 300, 300, 130),
    Placed("astronaut", 520, 290, 200, angle=8),
)


def faces(detector: FaceDetector, landmarker: FaceLandmarker, image: Image) -> list[Face]:
    """Every real face of ``image`` with its landmarks, largest first."""
    boxes = detector.detect(image, min_score=MIN_SCORE)
    return [landmarker.landmarks(image, box) for box in boxes]


def face_crop(detector: FaceDetector, image: Image, *, grow: float = 1.8) -> Image:
    """A square around the largest face, ``grow`` times its box's width."""
    box = detector.detect(image, min_score=MIN_SCORE)[0]
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    half = grow * (box.right - box.left) / 2
    height, width = image.shape[:2]
    top, left = max(0, int(cy - half)), max(0, int(cx - half))
    return image[top : min(height, int(cy + half)), left : min(width, int(cx + half))]


def grey_thumbnail(detector: FaceDetector, image: Image, *, side: int = 112) -> Image:
    """The face of ``image``, grey (three equal channels) and ``side`` pixels square."""
    grey = cv2.cvtColor(face_crop(detector, image), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (side, side), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(cv2.cvtColor(small, cv2.COLOR_GRAY2RGB))


def group_photo(detector: FaceDetector, portraits: dict[str, Image]) -> Image:
    """The GROUP's copies of ``portraits`` (by name) on an 800x560 grey gradient."""
    canvas = np.zeros((560, 800, 3), np.uint8)
    canvas[:] = np.linspace(60, 160, 800)[None, :, None].astype(np.uint8)
    crops = {who: face_crop(detector, image) for who, image in portraits.items()}
    for placed in GROUP:
        side = placed.side
        piece = cv2.resize(crops[placed.who], (side, side), interpolation=cv2.INTER_AREA)
        if placed.flip:
            piece = piece[:, ::-1]
        if placed.turn:
            squeeze = placed.turn * side
            corners = np.float32([[0, 0], [side, 0], [side, side], [0, side]])
            turned = np.float32(
                [
                    [0, 0],
                    [side - squeeze, 0.4 * squeeze],
                    [side - squeeze, side - 0.4 * squeeze],
                    [0, side],
                ]
            )
            matrix = cv2.getPerspectiveTransform(corners, turned)
            piece = cv2.warpPerspective(piece, matrix, (side, side), borderMode=cv2.BORDER_REFLECT)
        if placed.angle:
            matrix = cv2.getRotationMatrix2D((side / 2, side / 2), placed.angle, 1.0)
            piece = cv2.warpAffine(piece, matrix, (side, side), borderMode=cv2.BORDER_REFLECT)
        canvas[placed.y : placed.y + side, placed.x : placed.x + side] = piece
    return canvas


def face_at(found: list[Face], centre: tuple[float, float], side: float) -> Face | None:
    """The face of ``found`` whose box centre lies within a third of ``side`` of ``centre``."""
    for face in found:
        box = face.box
        dx = (box.left + box.right) / 2 - centre[0]
        dy = (box.top + box.bottom) / 2 - centre[1]
        if max(abs(dx), abs(dy)) < side / 3:
            return face
    return None


def delta_e(before: Image, after: Image, face: Face) -> float:
    """ΔE (CIE76) between the mean LAB colours of ``face``'s region in the two images."""
    mask = hull_mask(face.points, shape=before.shape[:2]) > 0

    def mean_lab(image: Image) -> np.ndarray:
        lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)[mask]
        return np.array([lab[:, 0].mean() * 100 / 255, *(lab[:, 1:].mean(axis=0) - 128)])

    return float(np.linalg.norm(mean_lab(after) - mean_lab(before)))
