"""BlazeFace short-range, run as MediaPipe runs it, for the offline detector benchmark.

The numbers are those of MediaPipe's
``mediapipe/modules/face_detection/face_detection_short_range_common.pbtxt``
and ``face_detection_short_range_cpu.pbtxt`` (v0.10.21):

- ``ImageToTensorCalculator``: the whole frame, its aspect kept (centred,
  zero border), into a 128x128 RGB tensor scaled to [-1, 1];
- ``SsdAnchorsCalculator``: 4 layers, strides 8, 16, 16, 16, aspect ratio 1
  plus the interpolated one, offset 0.5, ``fixed_anchor_size`` (every anchor
  1x1): 16x16x2 + 8x8x6 = 896 anchors;
- ``TensorsToDetectionsCalculator``: 16 values per anchor (x, y, w, h, then
  six keypoints), ``reverse_output_order`` (x first), scale 128 on all four,
  raw scores clipped at +-100, sigmoid, kept at 0.5;
- ``NonMaxSuppressionCalculator``: IoU, ``WEIGHTED`` at 0.3 (each kept box
  and its keypoints are the score-weighted mean of the boxes it absorbs).

The model runs on ONNX Runtime from ``blazeface_graph``'s conversion of the
TFLite file, which ``model_bytes`` takes from the ``mediapipe`` 0.10.21 wheel
(Apache-2.0; downloaded with pip, never installed) and checks by size and sha256.
BlazeFace lost the offline-default decision (``docs/benchmarks.md``), so it
lives here, beside the benchmark that measured it, not among the engines.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from bench.blazeface_graph import tflite_to_onnx
from visiovox.engines.face.types import FaceBox, Image

WHEEL = "mediapipe==0.10.21"
MEMBER = "mediapipe/modules/face_detection/face_detection_short_range.tflite"
MODEL_SIZE = 229_714
MODEL_SHA256 = "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"
CACHE = Path.home() / ".cache" / "visiovox-bench"
INPUT_SIDE = 128
STRIDES = (8, 16, 16, 16)
ANCHORS_PER_LAYER = 2  # aspect ratio 1.0 and the interpolated scale
COORD_SCALE = 128.0
SCORE_CLIP = 100.0
MIN_SCORE = 0.5
NMS_IOU = 0.3
KEYPOINTS = 6  # eye, eye, nose tip, mouth centre, ear tragion, ear tragion
Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Detections:
    """Detections in [0, 1] tensor coordinates: scores, boxes (x1, y1, x2, y2), keypoints."""

    scores: Array
    boxes: Array
    keypoints: Array


def ssd_anchors() -> Array:
    """The 896 anchor centres (x, y) in [0, 1], in the order of the model's rows.

    ``SsdAnchorsCalculator``: layers with the same stride share one grid, cell by
    cell (row-major), each layer adding its anchors to the cell.
    """
    centres = []
    layer = 0
    while layer < len(STRIDES):
        stride = STRIDES[layer]
        same = sum(1 for s in STRIDES[layer:] if s == stride)
        cells = INPUT_SIDE // stride
        ys, xs = np.mgrid[:cells, :cells]
        grid = (np.stack([xs, ys], axis=-1).reshape(-1, 2) + 0.5) / cells
        centres.append(np.repeat(grid, same * ANCHORS_PER_LAYER, axis=0))
        layer += same
    return np.concatenate(centres).astype(np.float32)


def letterbox_matrix(width: int, height: int) -> npt.NDArray[np.float64]:
    """The 2x3 affine from frame pixels to the 128x128 tensor: whole frame, centred, aspect kept."""
    side = max(width, height)
    scale = INPUT_SIDE / side
    return np.array(
        [
            [scale, 0.0, (side - width) / 2 * scale],
            [0.0, scale, (side - height) / 2 * scale],
        ]
    )


def input_tensor(image: Image) -> Array:
    """``image`` as the model's 1x3x128x128 input (RGB, [-1, 1], zero border before scaling)."""
    import cv2

    height, width = image.shape[:2]
    warped = cv2.warpAffine(
        image,
        letterbox_matrix(width, height),
        (INPUT_SIDE, INPUT_SIDE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    return (warped.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]


def decode(regressors: Array, classificators: Array, *, min_score: float = MIN_SCORE) -> Detections:
    """Scores, boxes and keypoints of every anchor scoring ``min_score`` or more."""
    raw = regressors.reshape(-1, 4 + 2 * KEYPOINTS)
    logits = np.clip(classificators.reshape(-1), -SCORE_CLIP, SCORE_CLIP)
    scores = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    anchors = ssd_anchors()
    if anchors.shape[0] != raw.shape[0]:
        raise ValueError(f"{raw.shape[0]} rows for {anchors.shape[0]} anchors")
    keep = scores >= min_score
    raw, anchors = raw[keep] / COORD_SCALE, anchors[keep]
    centres = raw[:, :2] + anchors
    half = raw[:, 2:4] / 2
    keypoints = raw[:, 4:].reshape(-1, KEYPOINTS, 2) + anchors[:, None, :]
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


def to_frame(found: Detections, *, width: int, height: int) -> Detections:
    """Detections moved from [0, 1] tensor coordinates to frame pixels (the letterbox undone)."""
    matrix = letterbox_matrix(width, height)
    scale, shift = matrix[0, 0], matrix[:, 2]

    def back(values: Array) -> Array:
        return np.asarray((values * INPUT_SIDE - shift) / scale, dtype=np.float32)

    corners = back(found.boxes.reshape(-1, 2, 2)).reshape(-1, 4)
    return Detections(found.scores, corners, back(found.keypoints))


def model_bytes(*, wheel: Path | None = None, cache: Path = CACHE) -> bytes:
    """The short-range model file: cached, else from ``wheel``, else from a pip-downloaded wheel."""
    cached = cache / Path(MEMBER).name
    if cached.is_file():
        data = cached.read_bytes()
    else:
        with tempfile.TemporaryDirectory() as scratch:
            if wheel is None:
                command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q"]
                subprocess.run([*command, "-d", scratch, WHEEL], check=True)
                wheel = next(Path(scratch).glob("mediapipe-*.whl"))
            with zipfile.ZipFile(wheel) as archive:
                data = archive.read(MEMBER)
    if len(data) != MODEL_SIZE or hashlib.sha256(data).hexdigest() != MODEL_SHA256:
        raise ValueError(f"{MEMBER}: size or sha256 differs from mediapipe 0.10.21's")
    cache.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(data)
    return data


class BlazeFace:
    """The converted model on ONNX Runtime (CPU), with MediaPipe's pre- and post-processing."""

    def __init__(self, model: bytes, *, threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        graph = tflite_to_onnx(model).SerializeToString()
        self._session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def detections(self, image: Image) -> Detections:
        """The detections of ``image`` in frame pixels, after weighted NMS, best first."""
        height, width = image.shape[:2]
        regressors, classificators = self._session.run(
            ["regressors", "classificators"], {"input": input_tensor(image)}
        )
        found = weighted_nms(decode(np.asarray(regressors), np.asarray(classificators)))
        return to_frame(found, width=width, height=height)

    def detect(self, image: Image) -> list[FaceBox]:
        """BlazeFace's own boxes, clipped to the frame, best first."""
        height, width = image.shape[:2]
        found = self.detections(image)
        return [
            FaceBox(
                left=max(0, round(float(box[0]))),
                top=max(0, round(float(box[1]))),
                right=min(width, round(float(box[2]))),
                bottom=min(height, round(float(box[3]))),
                score=float(score),
            )
            for score, box in zip(found.scores, found.boxes, strict=True)
        ]
