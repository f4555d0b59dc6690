"""BlazeFace short and full range for the detector benchmark, straight from the mediapipe wheel.

Both files come out of the ``mediapipe`` 0.10.21 wheel (Apache-2.0; pip
downloads it, nothing is installed), checked by size and sha256, and run on
ONNX Runtime with one thread through the converter and MediaPipe's pre- and
post-processing that the ``face.detect_blazeface`` engine uses
(``models/tflite_onnx.py``, ``engines/face/blazeface_decode.py``). Short range
is measured only here: it lost the offline-default decision (``docs/benchmarks.md``).
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
import onnxruntime as ort

from visiovox.engines.face.blazeface_decode import (
    FULL_RANGE,
    SHORT_RANGE,
    Detections,
    Variant,
    decode,
    input_tensor,
    to_frame,
    weighted_nms,
)
from visiovox.engines.face.types import FaceBox, Image
from visiovox.models.tflite_onnx import tflite_to_onnx

WHEEL = "mediapipe==0.10.21"
CACHE = Path.home() / ".cache" / "visiovox-bench"


@dataclass(frozen=True)
class WheelFile:
    """Where a variant's model lies in the wheel, and its size and sha256."""

    member: str
    size: int
    sha256: str


FILES = {
    SHORT_RANGE: WheelFile(
        member="mediapipe/modules/face_detection/face_detection_short_range.tflite",
        size=229_714,
        sha256="bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    ),
    FULL_RANGE: WheelFile(
        member="mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
        size=676_746,
        sha256="2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
    ),
}


def model_bytes(variant: Variant, *, wheel: Path | None = None, cache: Path = CACHE) -> bytes:
    """The variant's model file: cached, else from ``wheel``, else from a pip-downloaded wheel."""
    file = FILES[variant]
    cached = cache / Path(file.member).name
    if cached.is_file():
        data = cached.read_bytes()
    else:
        with tempfile.TemporaryDirectory() as scratch:
            if wheel is None:
                command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q"]
                subprocess.run([*command, "-d", scratch, WHEEL], check=True)
                wheel = next(Path(scratch).glob("mediapipe-*.whl"))
            with zipfile.ZipFile(wheel) as archive:
                data = archive.read(file.member)
    if len(data) != file.size or hashlib.sha256(data).hexdigest() != file.sha256:
        raise ValueError(f"{file.member}: size or sha256 differs from mediapipe 0.10.21's")
    cache.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(data)
    return data


class BlazeFace:
    """The converted model on ONNX Runtime (CPU), with MediaPipe's pre- and post-processing."""

    def __init__(self, variant: Variant, model: bytes, *, threads: int = 1) -> None:
        self.variant = variant
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        graph = tflite_to_onnx(model).SerializeToString()
        self._session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._outputs = [output.name for output in self._session.get_outputs()]

    def detections(self, image: Image) -> Detections:
        """The detections of ``image`` in frame pixels, after weighted NMS, best first."""
        height, width = image.shape[:2]
        side = self.variant.side
        # Short range names its outputs (regressors, classificators), full range
        # (Identity, Identity_1); both list the 16 values per anchor first.
        regressors, classificators = self._session.run(
            self._outputs, {self._input: input_tensor(image, side=side)}
        )
        decoded = decode(np.asarray(regressors), np.asarray(classificators), variant=self.variant)
        return to_frame(weighted_nms(decoded), width=width, height=height, side=side)

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
