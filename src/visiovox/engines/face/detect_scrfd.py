"""Face detection with InsightFace's SCRFD-10G (``det_10g.onnx``, manifest ``scrfd-10g``).

The graph takes ``input.1``: 1x3xHxW RGB, ``(pixel - 127.5) / 128``; the frame
is resized to fit a square of ``face.scrfd_input_size`` pixels (or the graph's
fixed size) and padded at the right and bottom, as insightface's
``scrfd.detect`` does it (``letterbox``: sizes cut by ``int()``, the scale
taken from the height, OpenCV's default linear resize). It returns nine tensors, three
per stride 8, 16 and 32 in this order: scores (N x 1), box distances (N x 4)
and five-keypoint offsets (N x 10), all in units of the stride, with two
anchors per feature-map cell (N = 2 * H/stride * W/stride). Each anchor sits
at its cell's top-left corner ``(x * stride, y * stride)``; a box is the
anchor minus (left, top) and plus (right, bottom) distances, each keypoint the
anchor plus its offset. Overlapping boxes are merged by NMS.

dlib's 68-point predictor was trained on its HOG detector's boxes, which are
tighter than SCRFD's; the box handed on is rebuilt from the five keypoints in
the HOG box's proportions (``HOG_BOX_*``, measured on the astronaut portrait
at several scales), so the landmarks land as they do after HOG. SCRFD's own
box rides along as ``FaceBox.detected`` (cut to ``int`` after clipping at 0, as
Wav2Lip's face detection hands its boxes on).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.types import FaceBox, Image
from visiovox.models.cache import prepare_model

if TYPE_CHECKING:
    import onnxruntime as ort

    from visiovox.config import Settings

MODEL = "scrfd-10g"
STRIDES = (8, 16, 32)
ANCHORS = 2
MEAN, STD = 127.5, 128.0
NMS_IOU = 0.4
# A HOG box's centre lies this share of the eyes-to-mouth distance below the
# eyes' midpoint, and its side is this many eyes-to-mouth distances.
HOG_BOX_CENTRE, HOG_BOX_SIDE = 0.55, 2.45
Array = npt.NDArray[np.float32]


class ScrfdDetector(FaceDetector):
    """SCRFD-10G on ONNX Runtime.

    ``upsample`` and ``min_score`` (HOG's) do not apply: SCRFD sees faces of 10+
    pixels, and its scores are probabilities cut at ``face.scrfd_threshold``.
    """

    name = "face.detect_scrfd"
    models = (MODEL,)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._session: ort.InferenceSession | None = None

    def load(self) -> None:
        from visiovox.models.onnx_session import create_session

        model = next(prepare_model(self.settings, MODEL).glob("*.onnx"))
        session = create_session(model, settings=self.settings, device=self.device, warmup=False)
        self._session = session.session
        width, height = self.input_size()
        self.detect(np.zeros((height, width, 3), dtype=np.uint8))  # warm-up at the real size

    def close(self) -> None:
        self._session = None

    def input_size(self) -> tuple[int, int]:
        """(width, height) the graph is fed: its fixed size, else the configured square."""
        if self._session is None:
            raise RuntimeError("face.detect_scrfd is not loaded")
        shape = self._session.get_inputs()[0].shape
        if isinstance(shape[2], int) and isinstance(shape[3], int):
            return int(shape[3]), int(shape[2])
        side = self.settings.face.scrfd_input_size
        return side, side

    def detect(self, image: Image, *, upsample: int = 1, min_score: float = 0.0) -> list[FaceBox]:
        """Faces in ``image``, largest first (``face.scrfd_threshold`` is SCRFD's cut)."""
        if self._session is None:
            raise RuntimeError("face.detect_scrfd is not loaded")
        height, width = image.shape[:2]
        in_w, in_h = self.input_size()
        canvas, scale = letterbox(image, width=in_w, height=in_h)
        blob = ((canvas.astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)[None]
        outputs = self._session.run(None, {self._session.get_inputs()[0].name: blob})
        scores, boxes, points = decode(
            [np.asarray(out, dtype=np.float32) for out in outputs],
            width=in_w,
            height=in_h,
            threshold=self.settings.face.scrfd_threshold,
        )
        found = []
        for index in nms(boxes, scores, iou=NMS_IOU):
            box = hog_like_box(points[index] / scale, width=width, height=height)
            if box is not None:
                x1, y1, x2, y2 = (int(v) for v in np.clip(boxes[index] / scale, 0, None))
                found.append(
                    FaceBox(
                        box.left,
                        box.top,
                        box.right,
                        box.bottom,
                        float(scores[index]),
                        detected=(x1, y1, x2, y2),
                    )
                )
        return sorted(found, key=lambda box: box.area, reverse=True)

    def largest(self, image: Image, *, min_score: float = 0.0) -> FaceBox | None:
        """The largest face of ``image``, or None (SCRFD has one pass)."""
        boxes = self.detect(image)
        return boxes[0] if boxes else None


def letterbox(image: Image, *, width: int, height: int) -> tuple[Image, float]:
    """``image`` resized into a ``width`` x ``height`` canvas at its top left, and the scale.

    insightface ``scrfd.detect``: the side that fills the canvas is kept, the
    other is ``int()`` of its scaled length, and the scale is new height / height.
    """
    import cv2

    rows, cols = image.shape[:2]
    if rows / cols > height / width:
        new_h = height
        new_w = max(1, int(new_h / (rows / cols)))
    else:
        new_w = width
        new_h = max(1, int(new_w * (rows / cols)))
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    canvas[:new_h, :new_w] = cv2.resize(image, (new_w, new_h))
    return canvas, new_h / rows


def anchor_centres(width: int, height: int, stride: int) -> Array:
    """The (x, y) of every anchor of one stride, cell by cell, ``ANCHORS`` per cell."""
    rows, cols = height // stride, width // stride
    ys, xs = np.mgrid[:rows, :cols]
    centres = np.stack([xs, ys], axis=-1).reshape(-1, 2).astype(np.float32) * stride
    return np.repeat(centres, ANCHORS, axis=0)


def decode(
    outputs: list[Array], *, width: int, height: int, threshold: float
) -> tuple[Array, Array, Array]:
    """Scores (N), boxes (N x 4: x1, y1, x2, y2) and keypoints (N x 5 x 2) over ``threshold``."""
    if len(outputs) != 3 * len(STRIDES):
        raise ValueError(f"SCRFD returns 9 tensors, this graph {len(outputs)}")
    count = len(STRIDES)
    all_scores, all_boxes, all_points = [], [], []
    for index, stride in enumerate(STRIDES):
        scores = outputs[index].reshape(-1)
        distances = outputs[index + count].reshape(-1, 4) * stride
        offsets = outputs[index + 2 * count].reshape(-1, 10) * stride
        centres = anchor_centres(width, height, stride)
        if centres.shape[0] != scores.shape[0]:
            raise ValueError(
                f"stride {stride}: {scores.shape[0]} scores for {len(centres)} anchors"
            )
        keep = scores >= threshold
        centres = centres[keep]
        all_scores.append(scores[keep])
        all_boxes.append(np.c_[centres - distances[keep, :2], centres + distances[keep, 2:]])
        all_points.append(centres[:, None, :] + offsets[keep].reshape(-1, 5, 2))
    return (
        np.concatenate(all_scores).astype(np.float32),
        np.concatenate(all_boxes).astype(np.float32),
        np.concatenate(all_points).astype(np.float32),
    )


def nms(boxes: Array, scores: Array, *, iou: float) -> list[int]:
    """Indices of the boxes kept, best score first, dropping any overlapping a kept one."""
    order = list(np.argsort(-scores, kind="stable"))
    areas = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)
    kept: list[int] = []
    while order:
        best, rest = order[0], np.array(order[1:], dtype=np.int64)
        kept.append(int(best))
        if rest.size == 0:
            break
        low = np.maximum(boxes[best, :2], boxes[rest, :2])
        high = np.minimum(boxes[best, 2:], boxes[rest, 2:])
        inter = np.prod(np.clip(high - low, 0, None), axis=1)
        overlap = inter / (areas[best] + areas[rest] - inter + 1e-6)
        order = [int(i) for i in rest[overlap <= iou]]
    return kept


def hog_like_box(points: Array, *, width: int, height: int) -> FaceBox | None:
    """The box dlib's HOG detector would draw around a face with these five keypoints."""
    eyes = (points[0] + points[1]) / 2
    mouth = (points[3] + points[4]) / 2
    span = float(np.linalg.norm(mouth - eyes))
    if span < 1.0:
        return None
    centre = eyes + HOG_BOX_CENTRE * (mouth - eyes)
    half = HOG_BOX_SIDE * span / 2
    box = FaceBox(
        left=max(0, round(centre[0] - half)),
        top=max(0, round(centre[1] - half)),
        right=min(width, round(centre[0] + half)),
        bottom=min(height, round(centre[1] + half)),
    )
    return box if box.area > 0 else None


def preferred_detector(settings: Settings) -> str:
    """The detector engine ``face.detector`` names; auto: the best one at hand.

    SCRFD when its weights are cached, then BlazeFace full range
    (``detect_blazeface``) when cached or carried by an installed package (VisioVox
    bundles it), then dlib's HOG, which needs no file.
    """
    from visiovox.engines.face.detect_blazeface import MODEL as BLAZEFACE_MODEL
    from visiovox.engines.face.detect_blazeface import BlazeFaceDetector
    from visiovox.models.cache import is_ready
    from visiovox.models.errors import UnknownModel
    from visiovox.models.manifest import get_manifest
    from visiovox.models.sources import is_bundled

    named = {
        "hog": FaceDetector.name,
        "scrfd": ScrfdDetector.name,
        "blazeface": BlazeFaceDetector.name,
    }
    choice = settings.face.detector
    if choice != "auto":
        return named[choice]
    manifest = get_manifest(settings)
    for model, engine in ((MODEL, ScrfdDetector.name), (BLAZEFACE_MODEL, BlazeFaceDetector.name)):
        try:
            entry = manifest.get(model)
        except UnknownModel:
            continue
        if is_ready(entry, settings.models.cache_dir) or is_bundled(entry):
            return engine
    return FaceDetector.name
