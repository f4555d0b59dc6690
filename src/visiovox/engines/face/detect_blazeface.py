"""Face detection with MediaPipe's BlazeFace full-range model (manifest ``blazeface-full-range``).

``face_detection_full_range_sparse.tflite`` (Apache-2.0, 677 kB) is rewritten
as an ONNX graph at load (``models/tflite_onnx.py``) and run by ONNX Runtime,
so no TFLite runtime is needed; its pre- and post-processing are MediaPipe's
(``blazeface_decode``). On the detector benchmark's 640x480 set it finds every
face dlib's HOG finds, turned ones beyond HOG's reach too, at a sixteenth of
HOG's time (``docs/benchmarks.md``).

dlib's 68 points were trained on HOG's boxes: the box handed on is rebuilt
from BlazeFace's eye and mouth keypoints in a HOG box's proportions, as SCRFD's
is (``HOG_BOX_*``: the medians over the upright and small faces of the
benchmark set and the two portraits at 100-300 px, where both detectors found
the one face).
BlazeFace's own box is not handed on as ``FaceBox.detected``: it was not
trained on WIDER FACE, so Wav2Lip's crop is built from the landmarks as after HOG.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from visiovox.engines.face.blazeface_decode import (
    FULL_RANGE,
    decode,
    input_tensor,
    to_frame,
    weighted_nms,
)
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.types import FaceBox, Image, Points
from visiovox.models.cache import prepare_model

if TYPE_CHECKING:
    import onnxruntime as ort

    from visiovox.engines.face.blazeface_decode import Detections

MODEL = "blazeface-full-range"
MODEL_FILE = "face_detection_full_range_sparse.tflite"
# A HOG box's centre lies this share of the way from the eyes' midpoint to the
# mouth keypoint, and its side is this many eyes-to-mouth distances.
HOG_BOX_CENTRE, HOG_BOX_SIDE = 0.51, 2.22


class BlazeFaceDetector(FaceDetector):
    """BlazeFace full range on ONNX Runtime, one pass per frame.

    ``upsample`` and ``min_score`` (HOG's) do not apply: the model sees the
    whole frame at 192x192 and its scores are probabilities cut at MediaPipe's 0.6.
    """

    name = "face.detect_blazeface"
    models = (MODEL,)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._session: ort.InferenceSession | None = None

    def load(self) -> None:
        from visiovox.models.onnx_session import create_session
        from visiovox.models.tflite_onnx import tflite_to_onnx

        tflite = (prepare_model(self.settings, MODEL) / MODEL_FILE).read_bytes()
        graph = tflite_to_onnx(tflite).SerializeToString()
        self._session = create_session(graph, settings=self.settings, device=self.device).session

    def close(self) -> None:
        self._session = None

    def detections(self, image: Image) -> Detections:
        """BlazeFace's boxes, keypoints and scores in frame pixels, best first."""
        if self._session is None:
            raise RuntimeError("face.detect_blazeface is not loaded")
        height, width = image.shape[:2]
        outputs = [output.name for output in self._session.get_outputs()]
        feed = {self._session.get_inputs()[0].name: input_tensor(image, side=FULL_RANGE.side)}
        regressors, classificators = self._session.run(outputs, feed)
        found = decode(np.asarray(regressors), np.asarray(classificators), variant=FULL_RANGE)
        return to_frame(weighted_nms(found), width=width, height=height, side=FULL_RANGE.side)

    def detect(self, image: Image, *, upsample: int = 1, min_score: float = 0.0) -> list[FaceBox]:
        """Faces in ``image`` in HOG-shaped boxes, largest first."""
        height, width = image.shape[:2]
        found = self.detections(image)
        faces = []
        for score, keypoints in zip(found.scores, found.keypoints, strict=True):
            box = hog_like_box(keypoints, width=width, height=height)
            if box is not None:
                faces.append(FaceBox(box.left, box.top, box.right, box.bottom, float(score)))
        return sorted(faces, key=lambda box: box.area, reverse=True)

    def largest(self, image: Image, *, min_score: float = 0.0) -> FaceBox | None:
        """The largest face of ``image``, or None (one pass)."""
        boxes = self.detect(image)
        return boxes[0] if boxes else None


def hog_like_box(keypoints: Points, *, width: int, height: int) -> FaceBox | None:
    """The box dlib's HOG detector would draw around a face with BlazeFace's six keypoints."""
    eyes = (keypoints[0] + keypoints[1]) / 2
    mouth = keypoints[3]
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
