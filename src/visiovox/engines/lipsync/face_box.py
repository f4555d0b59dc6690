"""The face box Wav2Lip crops, made as its ``inference.py`` makes it from a detector's boxes.

Wav2Lip was trained on S3FD boxes, padded by ``--pads`` (top 0, bottom 10,
left 0, right 0 pixels), and its README asks that the padded box hold the
chin. S3FD itself is not available here, so:

- SCRFD's own box (``FaceBox.detected``) is used as it is: SCRFD and S3FD were
  both trained on WIDER FACE and draw alike. A tracked frame (no detection of
  its own) carries the last detected box along with its five points;
- dlib's HOG box ends 7-11 px above the chin on the fixtures: its bottom is
  moved down until chin landmark 8 plus a margin of 10 % of the box height is
  inside.

Then the pads (clipped to the picture), then ``get_smoothened_boxes``: each box
is the mean of itself and the next four (the last five for the last frames),
written back into the integer array as it goes, so it is cut to an integer.
Frames without a face split the video into runs smoothed on their own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from visiovox.engines.face.align import five_points, similarity_fit
from visiovox.engines.face.types import Face

CropBox = tuple[int, int, int, int]  # x1, y1, x2, y2; x2, y2 exclusive
# Wav2Lip's default --pads: top, bottom, left, right, in pixels.
PADS = (0, 10, 0, 0)
CHIN, CHIN_MARGIN = 8, 0.1
SMOOTH_FRAMES = 5


def chin_box(face: Face) -> CropBox:
    """``face.box`` with its bottom lowered to hold chin landmark 8 plus a tenth of its height."""
    box = face.box
    margin = CHIN_MARGIN * (box.bottom - box.top)
    bottom = max(box.bottom, math.ceil(float(face.points[CHIN, 1]) + margin))
    return box.left, box.top, box.right, bottom


def carried_box(detected: Face, face: Face) -> CropBox:
    """``detected``'s SCRFD box moved, scaled and turned as its five points went to ``face``'s."""
    assert detected.box.detected is not None
    matrix = similarity_fit(five_points(detected.points), five_points(face.points))
    x1, y1, x2, y2 = detected.box.detected
    centre = matrix[:, :2] @ np.array([(x1 + x2) / 2, (y1 + y2) / 2]) + matrix[:, 2]
    scale = math.sqrt(abs(float(np.linalg.det(matrix[:, :2]))))
    half_w, half_h = scale * (x2 - x1) / 2, scale * (y2 - y1) / 2
    return (
        max(0, int(centre[0] - half_w)),
        max(0, int(centre[1] - half_h)),
        int(centre[0] + half_w),
        int(centre[1] + half_h),
    )


def detector_boxes(faces: Sequence[Face | None]) -> list[CropBox | None]:
    """Per frame, the detector's box as Wav2Lip would have had it (None: no face)."""
    boxes: list[CropBox | None] = []
    last: Face | None = None
    upcoming = [i for i, face in enumerate(faces) if face is not None and face.box.detected]
    for index, face in enumerate(faces):
        if face is None:
            boxes.append(None)
        elif face.box.detected is not None:
            last = face
            boxes.append(face.box.detected)
        elif last is not None or upcoming:
            source = last if last is not None else faces[upcoming[0]]
            assert source is not None
            boxes.append(carried_box(source, face))
        else:
            boxes.append(chin_box(face))
        while upcoming and upcoming[0] <= index:
            upcoming.pop(0)
    return boxes


def padded(box: CropBox, *, width: int, height: int) -> CropBox:
    """``box`` grown by Wav2Lip's pads, inside a ``width`` x ``height`` picture."""
    top, bottom, left, right = PADS
    x1, y1, x2, y2 = box
    return max(0, x1 - left), max(0, y1 - top), min(width, x2 + right), min(height, y2 + bottom)


def smoothed(boxes: Sequence[CropBox | None]) -> list[CropBox | None]:
    """Wav2Lip's ``get_smoothened_boxes(boxes, T=5)`` over each run of frames with a face.

    The reference takes ``boxes[len - T:]`` near the end, which for a run under
    five frames is a negative index (its last few boxes only); here such a run
    is averaged whole.
    """
    result: list[CropBox | None] = list(boxes)
    start = 0
    while start < len(boxes):
        if boxes[start] is None:
            start += 1
            continue
        end = start
        while end < len(boxes) and boxes[end] is not None:
            end += 1
        run = np.array(boxes[start:end], dtype=np.int64)
        count = len(run)
        for i in range(count):
            window = (
                run[max(0, count - SMOOTH_FRAMES) :]
                if i + SMOOTH_FRAMES > count
                else run[i : i + SMOOTH_FRAMES]
            )
            run[i] = np.mean(window, axis=0)
        result[start:end] = [(int(a), int(b), int(c), int(d)) for a, b, c, d in run]
        start = end
    return result


def crop_boxes(faces: Sequence[Face | None], *, width: int, height: int) -> list[CropBox | None]:
    """Per frame of a ``width`` x ``height`` video, the box Wav2Lip crops (None: no face)."""
    return smoothed(
        [
            None if box is None else padded(box, width=width, height=height)
            for box in detector_boxes(faces)
        ]
    )
