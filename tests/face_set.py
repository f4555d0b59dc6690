"""A face-detection test set assembled from the two public domain portraits.

Every frame is 640x480, made from ``astronaut.png`` and ``grace_hopper.jpg``
(both public domain, works of the US federal government; see
``tests/fixtures/README.md``), so the set carries their licence: upright faces,
mirrored ones, faces turned in-plane by +-30 degrees, faces "turned away" by a
perspective warp that shortens one side (a stand-in for yaw), small faces
(40, 60 and 80 px wide) and a group of eight faces from 50 to 90 px. Each
frame lists where its faces are (the fixture's face box carried through the
same transform), so a detector's finds can be counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from tests.faces import ASTRONAUT, HOPPER
from visiovox.engines.face.types import FaceBox, Image

WIDTH, HEIGHT = 640, 480
BACKGROUND = 96
# Face widths (px) of the group frame's eight faces, in a 4 x 2 grid of cells.
GROUP_SIZES = (90, 50, 80, 70, 60, 85, 75, 55)
# Face boxes (x1, y1, x2, y2) in the fixtures' own pixels: dlib HOG's on the
# untouched portraits (one upsample), checked by eye to frame each face.
FACE_BOXES = {ASTRONAUT.name: (175, 76, 266, 167), HOPPER.name: (180, 139, 367, 326)}
Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Frame:
    """One frame of the set: its group, name, pixels (RGB) and the faces it holds."""

    group: str
    name: str
    image: Image
    faces: tuple[tuple[float, float, float, float], ...]


@dataclass(frozen=True)
class Portrait:
    """A fixture and its face box, after any transforms so far."""

    image: Image
    box: tuple[float, float, float, float]


def load_portraits() -> list[Portrait]:
    """The two fixtures as RGB with their face boxes."""
    portraits = []
    for path in (ASTRONAUT, HOPPER):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FileNotFoundError(path)
        portraits.append(Portrait(np.ascontiguousarray(bgr[:, :, ::-1]), FACE_BOXES[path.name]))
    return portraits


def _carry_box(box: tuple[float, float, float, float], matrix: Matrix) -> tuple[float, ...]:
    """The bounding box of ``box``'s corners under the 3x3 ``matrix``."""
    x1, y1, x2, y2 = box
    corners = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float64)
    moved = np.asarray(cv2.perspectiveTransform(corners[None], matrix))[0]
    return (*moved.min(axis=0), *moved.max(axis=0))


def transformed(portrait: Portrait, matrix: Matrix) -> Portrait:
    """``portrait`` warped by ``matrix`` (3x3) onto a canvas of its own size."""
    height, width = portrait.image.shape[:2]
    image = cv2.warpPerspective(
        portrait.image,
        matrix,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(BACKGROUND,) * 3,
    )
    x1, y1, x2, y2 = _carry_box(portrait.box, matrix)
    return Portrait(image, (x1, y1, x2, y2))


def mirrored(portrait: Portrait) -> Portrait:
    width = portrait.image.shape[1]
    return transformed(portrait, np.array([[-1, 0, width - 1], [0, 1, 0], [0, 0, 1]], np.float64))


def rotated(portrait: Portrait, degrees: float) -> Portrait:
    x1, y1, x2, y2 = portrait.box
    affine = cv2.getRotationMatrix2D(((x1 + x2) / 2, (y1 + y2) / 2), degrees, 1.0)
    return transformed(portrait, np.vstack([affine, [0, 0, 1]]))


def yawed(portrait: Portrait, *, right: bool) -> Portrait:
    """The face as on a card turned about its vertical axis: one side shorter and narrower."""
    x1, y1, x2, y2 = portrait.box
    w, h = x2 - x1, y2 - y1
    src = [[x1, y1], [x2, y1], [x2, y2], [x1, y2]]
    far, squeeze = 0.18 * h, 0.22 * w  # the far edge: shorter, and moved in
    if right:
        dst = [[x1, y1], [x2 - squeeze, y1 + far], [x2 - squeeze, y2 - far], [x1, y2]]
    else:
        dst = [[x1 + squeeze, y1 + far], [x2, y1], [x2, y2], [x1 + squeeze, y2 - far]]
    matrix = cv2.getPerspectiveTransform(
        np.array(src, dtype=np.float32), np.array(dst, dtype=np.float32)
    )
    return transformed(portrait, np.asarray(matrix, dtype=np.float64))


def place(
    canvas: Image, portrait: Portrait, *, face_px: float, centre: tuple[float, float]
) -> tuple[float, float, float, float]:
    """Paste ``portrait`` scaled so its face is ``face_px`` wide, face centred at ``centre``."""
    x1, y1, x2, y2 = portrait.box
    scale = face_px / (x2 - x1)
    cx, cy = (x1 + x2) / 2 * scale, (y1 + y2) / 2 * scale
    dx, dy = centre[0] - cx, centre[1] - cy
    affine = np.array([[scale, 0, dx], [0, scale, dy]], dtype=np.float64)
    mask = np.full(portrait.image.shape[:2], 255, np.uint8)
    size = (canvas.shape[1], canvas.shape[0])
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    layer = cv2.warpAffine(portrait.image, affine, size, flags=interpolation)
    cover = cv2.warpAffine(mask, affine, size, flags=cv2.INTER_NEAREST) > 0
    canvas[cover] = layer[cover]
    return (x1 * scale + dx, y1 * scale + dy, x2 * scale + dx, y2 * scale + dy)


def cropped(portrait: Portrait, *, margin: float) -> Portrait:
    """The face and ``margin`` face widths around it, cut out of ``portrait``."""
    x1, y1, x2, y2 = portrait.box
    pad = margin * (x2 - x1)
    height, width = portrait.image.shape[:2]
    left, top = max(0, int(x1 - pad)), max(0, int(y1 - pad))
    right, bottom = min(width, int(x2 + pad)), min(height, int(y2 + pad))
    image = np.ascontiguousarray(portrait.image[top:bottom, left:right])
    return Portrait(image, (x1 - left, y1 - top, x2 - left, y2 - top))


def single(group: str, name: str, portrait: Portrait, *, face_px: float) -> Frame:
    canvas = np.full((HEIGHT, WIDTH, 3), BACKGROUND, np.uint8)
    box = place(canvas, portrait, face_px=face_px, centre=(WIDTH / 2, HEIGHT * 0.45))
    return Frame(group, name, canvas, (box,))


def _group(portraits: Sequence[Portrait]) -> Frame:
    canvas = np.full((HEIGHT, WIDTH, 3), BACKGROUND, np.uint8)
    boxes = []
    for index, size in enumerate(GROUP_SIZES):
        # Head and shoulders only (0.35 face widths around the face), so no
        # face covers another: the largest cut-out is 1.7 x 90 < 160 px, a cell.
        portrait = cropped(portraits[index % 2], margin=0.35)
        if index % 3 == 1:
            portrait = mirrored(portrait)
        column, row = index % 4, index // 4
        centre = (WIDTH * (column + 0.5) / 4, HEIGHT * (row + 0.5) / 2)
        boxes.append(place(canvas, portrait, face_px=size, centre=centre))
    return Frame("group", "eight faces 50-90 px", canvas, tuple(boxes))


def build_set() -> list[Frame]:
    """Every frame of the set, in a fixed order."""
    frames = []
    for portrait, who in zip(load_portraits(), ("astronaut", "hopper"), strict=True):
        frames.append(single("upright", who, portrait, face_px=150))
        frames.append(single("mirrored", who, mirrored(portrait), face_px=150))
        for degrees in (30, -30):
            frames.append(
                single(
                    "turned in-plane",
                    f"{who} {degrees:+d} deg",
                    rotated(portrait, degrees),
                    face_px=150,
                )
            )
        for right in (True, False):
            side = "right" if right else "left"
            frames.append(
                single("turned away", f"{who} {side}", yawed(portrait, right=right), face_px=150)
            )
        for size in (40, 60, 80):
            frames.append(single("small", f"{who} {size} px", portrait, face_px=size))
    frames.append(_group(load_portraits()))
    return frames


def count_found(frame: Frame, boxes: Sequence[FaceBox]) -> tuple[int, int]:
    """(faces found, false finds): a face is found by an unused box whose centre lies in it."""
    unused = list(boxes)
    found = 0
    for x1, y1, x2, y2 in frame.faces:
        for box in unused:
            cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
            if x1 <= cx <= x2 and y1 <= cy <= y2:
                unused.remove(box)
                found += 1
                break
    return found, len(unused)
