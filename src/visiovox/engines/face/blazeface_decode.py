"""BlazeFace's pre- and post-processing, as MediaPipe's face detection graphs do it.

The numbers are those of MediaPipe v0.10.21's graphs (the options of the
``FaceDetectionShortRange`` and ``FaceDetectionFullRange`` subgraphs):

- ``ImageToTensorCalculator``: the whole frame, its aspect kept (centred, zero
  border), into a square RGB tensor scaled to [-1, 1]: 128 px (short range,
  ``face_detection_short_range_cpu.pbtxt``), 192 px (full range);
- ``SsdAnchorsCalculator`` (``face_detection_short_range_common.pbtxt``,
  ``face_detection_full_range.pbtxt``): offset 0.5, aspect ratio 1,
  ``fixed_anchor_size`` (every anchor 1x1); short range: strides 8, 16, 16,
  16 with the interpolated anchor (two per layer), 16x16x2 + 8x8x6 = 896;
  full range: stride 4, ``interpolated_scale_aspect_ratio`` 0 (one per
  cell), 48x48 = 2304;
- ``TensorsToDetectionsCalculator``: 16 values per anchor (x, y, w, h, then
  six keypoints), ``reverse_output_order`` (x first), all four scaled by the
  tensor side, raw scores clipped at +-100, sigmoid, kept at 0.5 (short
  range) or 0.6 (full range);
- ``NonMaxSuppressionCalculator``: IoU, ``WEIGHTED`` at 0.3 (each kept box
  and its keypoints are the score-weighted mean of the boxes it absorbs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visiovox.engines.face.types import Image

SCORE_CLIP = 100.0
NMS_IOU = 0.3
KEYPOINTS = 6  # right eye, left eye, nose tip, mouth centre, right and left ear tragion
Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Variant:
    """One BlazeFace model's graph options."""

    name: str
    side: int
    strides: tuple[int, ...]
    anchors_per_layer: int  # 2 with the interpolated anchor, 1 without
    min_score: float


SHORT_RANGE = Variant(
    name="BlazeFace short", side=128, strides=(8, 16, 16, 16), anchors_per_layer=2, min_score=0.5
)
FULL_RANGE = Variant(
    name="BlazeFace full", side=192, strides=(4,), anchors_per_layer=1, min_score=0.6
)


@dataclass(frozen=True)
class Detections:
    """Detections in [0, 1] tensor coordinates: scores, boxes (x1, y1, x2, y2), keypoints."""

    scores: Array
    boxes: Array
    keypoints: Array


def ssd_anchors(variant: Variant) -> Array:
    """The anchor centres (x, y) in [0, 1], in the order of the model's rows.

    ``SsdAnchorsCalculator``: layers with the same stride share one grid, cell by
    cell (row-major), each layer adding its anchors to the cell.
    """
    centres = []
    layer = 0
    strides = variant.strides
    while layer < len(strides):
        stride = strides[layer]
        same = sum(1 for s in strides[layer:] if s == stride)
        cells = variant.side // stride
        ys, xs = np.mgrid[:cells, :cells]
        grid = (np.stack([xs, ys], axis=-1).reshape(-1, 2) + 0.5) / cells
        centres.append(np.repeat(grid, same * variant.anchors_per_layer, axis=0))
        layer += same
    return np.concatenate(centres).astype(np.float32)


def letterbox_matrix(width: int, height: int, *, side: int) -> npt.NDArray[np.float64]:
    """The 2x3 affine from frame pixels to the square tensor: whole frame, centred, aspect kept."""
    longer = max(width, height)
    scale = side / longer
    return np.array(
        [
            [scale, 0.0, (longer - width) / 2 * scale],
            [0.0, scale, (longer - height) / 2 * scale],
        ]
    )


def input_tensor(image: Image, *, side: int) -> Array:
    """``image`` as the model's 1x3xside x side input (RGB, [-1, 1], zero border before scaling)."""
    import cv2

    height, width = image.shape[:2]
    warped = cv2.warpAffine(
        image,
        letterbox_matrix(width, height, side=side),
        (side, side),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    return (warped.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]


def decode(regressors: Array, classificators: Array, *, variant: Variant) -> Detections:
    """Scores, boxes and keypoints of every anchor scoring the variant's ``min_score`` or more."""
    raw = regressors.reshape(-1, 4 + 2 * KEYPOINTS)
    logits = np.clip(classificators.reshape(-1), -SCORE_CLIP, SCORE_CLIP)
    scores = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    anchors = ssd_anchors(variant)
    if anchors.shape[0] != raw.shape[0]:
        raise ValueError(f"{raw.shape[0]} rows for {anchors.shape[0]} anchors")
    keep = scores >= variant.min_score
    kept, anchors = raw[keep] / variant.side, anchors[keep]
    centres = kept[:, :2] + anchors
    half = kept[:, 2:4] / 2
    keypoints = kept[:, 4:].reshape(-1, KEYPOINTS, 2) + anchors[:, None, :]
    return Detections(
        scores=scores[keep].astype(np.float32),
        boxes=np.c_[centres - half, centres + half].astype(np.float32),
        keypoints=keypoints.astype(np.float32),
    )


def _iou(box: Array, others: Array) -> Array:
    low = np.maximum(box[:2], others[:, :2])
    high = np.minimum(box[2:], others[:, 2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(others[:, 2:] - others[:, :2], axis=1)
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0).astype(np.float32)


def weighted_nms(found: Detections, *, iou: float = NMS_IOU) -> Detections:
    """MediaPipe's ``WeightedNonMaxSuppression``: best first, each absorbing what overlaps it.

    A kept detection has the best score of its group, and the box and keypoints
    of the group averaged with the scores as weights.
    """
    order = np.argsort(-found.scores, kind="stable")
    scores, boxes, points = [], [], []
    while order.size:
        overlap = _iou(found.boxes[order[0]], found.boxes[order])
        group, order = order[overlap > iou], order[overlap <= iou]
        weights = found.scores[group][:, None]
        total = float(weights.sum())
        scores.append(found.scores[group[0]])
        boxes.append((found.boxes[group] * weights).sum(axis=0) / total)
        points.append((found.keypoints[group] * weights[:, :, None]).sum(axis=0) / total)
    return Detections(
        scores=np.array(scores, dtype=np.float32),
        boxes=np.array(boxes, dtype=np.float32).reshape(-1, 4),
        keypoints=np.array(points, dtype=np.float32).reshape(-1, KEYPOINTS, 2),
    )


def to_frame(found: Detections, *, width: int, height: int, side: int) -> Detections:
    """Detections moved from [0, 1] tensor coordinates to frame pixels (the letterbox undone)."""
    matrix = letterbox_matrix(width, height, side=side)
    scale, shift = matrix[0, 0], matrix[:, 2]

    def back(values: Array) -> Array:
        return np.asarray((values * side - shift) / scale, dtype=np.float32)

    corners = back(found.boxes.reshape(-1, 2, 2)).reshape(-1, 4)
    return Detections(found.scores, corners, back(found.keypoints))
