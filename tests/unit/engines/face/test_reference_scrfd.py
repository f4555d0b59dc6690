"""SCRFD's letterbox and box hand-off against insightface's ``model_zoo/scrfd.py``.

``SCRFD.detect``: with ``im_ratio = rows / cols`` over the input's ratio the
height fills the input and ``new_width = int(new_height / im_ratio)``, else
the width fills it and ``new_height = int(new_width * im_ratio)``;
``det_scale = new_height / rows``; ``cv2.resize(img, (new_width,
new_height))`` (OpenCV's default linear), pasted at the top left of a zero
canvas. Boxes and keypoints are divided by ``det_scale``. Wav2Lip's
``face_detection/api.py`` (``get_detections_for_batch``) clips a box at 0 and
cuts it with ``int``. The expected values below are worked by hand from those
lines.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.unit.engines.face.test_detect_scrfd import detector_on, outputs
from visiovox.engines.face.detect_scrfd import letterbox
from visiovox.engines.face.types import Image


@pytest.mark.parametrize(
    ("rows", "cols", "size", "scale"),
    [
        # 1280x720: the width fills 640, 640 * 0.5625 = 360 rows, scale 0.5.
        (720, 1280, (640, 360), 0.5),
        # 1000x337: 640 * 0.337 = 215.68 -> int 215 (round() gave 216), scale 215/337.
        (337, 1000, (640, 215), 215 / 337),
        # 512x600 (Grace Hopper): the height fills, 640 / 1.171875 = 546.13 -> 546.
        (600, 512, (546, 640), 640 / 600),
    ],
)
def test_letterbox_sizes_and_scale_are_insightfaces(
    rows: int, cols: int, size: tuple[int, int], scale: float
) -> None:
    canvas, got = letterbox(np.full((rows, cols, 3), 9, dtype=np.uint8), width=640, height=640)
    assert got == pytest.approx(scale, rel=1e-12)
    filled = np.argwhere(canvas[..., 0] == 9)
    assert (filled.max(axis=0) + 1).tolist() == [size[1], size[0]]
    assert canvas.sum() == 9 * 3 * size[0] * size[1]  # zeros beyond


def test_letterbox_resizes_linearly_on_the_fixture(hopper: Image) -> None:
    canvas, _ = letterbox(hopper, width=640, height=640)
    linear = cv2.resize(hopper, (546, 640), interpolation=cv2.INTER_LINEAR)
    assert np.array_equal(canvas[:, :546], linear)
    area = cv2.resize(hopper, (546, 640), interpolation=cv2.INTER_AREA)
    assert not np.array_equal(canvas[:, :546], area)


def test_scrfds_own_box_rides_along_clipped_and_cut(tmp_path: Path) -> None:
    # A 60x60 box around anchor (80, 160) of the 640 input (stride 8, cell (10, 20)):
    # (50, 130, 110, 190) / (215 / 337) = (78.37, 203.77, 172.42, 297.81) -> int.
    detector = detector_on(tmp_path, outputs([(8, (10, 20), 0.9)]))
    boxes = detector.detect(np.zeros((337, 1000, 3), dtype=np.uint8))
    assert len(boxes) == 1
    assert boxes[0].detected == (78, 203, 172, 297)
