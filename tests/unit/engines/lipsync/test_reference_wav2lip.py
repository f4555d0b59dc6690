"""Wav2Lip's face box, crop and paste-back against its ``inference.py``.

Reference lines (Rudrabha/Wav2Lip ``inference.py``): ``face_detect`` pads each
detector box by ``--pads`` (default ``[0, 10, 0, 0]``: top, bottom, left,
right) clipped to the frame, then ``get_smoothened_boxes(boxes, T=5)``
(window ``boxes[i : i + T]``, or ``boxes[len(boxes) - T:]`` near the end,
written back in place into the integer array); crops are resized with
``cv2.resize(face, (96, 96))`` (linear); the prediction is ``pred * 255``,
``p.astype(np.uint8)``, ``cv2.resize(p, (x2 - x1, y2 - y1))`` and pasted hard
(``f[y1:y2, x1:x2] = p``). Expected values are worked by hand from those lines
and from the fixtures' dlib boxes and chin landmark 8 (issue 16: astronaut box
(175, 76, 266, 167), chin y 178; Grace Hopper (180, 139, 367, 326), chin y 333).

The stand-in graph returns the crop it was given (its unmasked half), with the
lower half inverted: the lower half is what the model generates, so what comes
back at the chin shows whether the chin was inside the crop and was kept.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
import yaml
from onnx import TensorProto, helper, numpy_helper

from tests.faces import HOPPER, find_face
from visiovox.config import load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Face, FaceBox, Image
from visiovox.engines.lipsync.base import SPEECH_RATE, FaceFrame
from visiovox.engines.lipsync.face_box import detector_boxes, smoothed
from visiovox.engines.lipsync.wav2lip import MODEL_ID, Wav2Lip, crop_box, face_batch
from visiovox.media.image import read_image
from visiovox.models.hashing import sha256_of

FPS = 25.0


def inverting_graph(path: Path) -> None:
    """A Wav2Lip stand-in: its unmasked input crop back, the lower half inverted."""
    mel = helper.make_tensor_value_info("mel_spectrogram", TensorProto.FLOAT, ["N", 1, 80, 16])
    faces = helper.make_tensor_value_info("video_frames", TensorProto.FLOAT, ["N", 6, 96, 96])
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 3, 96, 96])
    lower = np.zeros((1, 1, 96, 96), dtype=np.float32)
    lower[..., 48:, :] = 1.0
    constants = {
        "starts": np.array([3], dtype=np.int64),
        "ends": np.array([6], dtype=np.int64),
        "axes": np.array([1], dtype=np.int64),
        "zero": np.zeros((1,), dtype=np.float32),
        "one": np.ones((1,), dtype=np.float32),
        "two": np.full((1,), 2.0, dtype=np.float32),
        "lower": lower,
    }
    nodes = [
        helper.make_node("Slice", ["video_frames", "starts", "ends", "axes"], ["reference"]),
        helper.make_node("ReduceMean", ["mel_spectrogram"], ["level"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Mul", ["level", "zero"], ["nothing"]),
        # reference + lower * (1 - 2 * reference): the lower half becomes 1 - reference.
        helper.make_node("Mul", ["reference", "two"], ["double"]),
        helper.make_node("Sub", ["one", "double"], ["flip"]),
        helper.make_node("Mul", ["flip", "lower"], ["change"]),
        helper.make_node("Add", ["reference", "change"], ["generated"]),
        helper.make_node("Add", ["generated", "nothing"], ["output"]),
    ]
    initializers = [numpy_helper.from_array(value, name) for name, value in constants.items()]
    graph = helper.make_graph(nodes, "wav2lip", [mel, faces], [output], initializers)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def load_inverting(root: Path, *, paste: str) -> Wav2Lip:
    cache = root / "cache"
    model = cache / MODEL_ID / "wav2lip_gan.onnx"
    model.parent.mkdir(parents=True)
    inverting_graph(model)
    entry = {
        "id": MODEL_ID,
        "task": "lip-sync",
        "engine": "lipsync.wav2lip",
        "license": "test graph",
        "files": [{"path": model.name, "sha256": sha256_of(model), "size": model.stat().st_size}],
        "sources": [{"type": "url", "files": {model.name: f"http://127.0.0.1:9/{model.name}"}}],
    }
    manifest = root / "models.yaml"
    manifest.write_text(yaml.safe_dump({"models": [entry]}))
    settings = load_settings(
        models={"cache_dir": cache, "manifest": manifest, "offline": True},
        lipsync={"wav2lip_paste": paste},
    )
    engine = Wav2Lip(settings=settings, device="cpu")
    engine.load()
    return engine


def tone() -> np.ndarray:
    t = np.arange(SPEECH_RATE) / SPEECH_RATE
    return (0.3 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)


def test_dlib_box_is_lowered_to_hold_the_chin_then_padded(
    faces: tuple[FaceDetector, FaceLandmarker], portrait: Image, portrait_face: Face
) -> None:
    # Astronaut: 178 + 0.1 * 91 = 187.1 -> 188, + 10 = 198 (HOG's 167 + 10 missed the chin).
    assert crop_box(FaceFrame(0, portrait, portrait_face)) == (175, 76, 266, 198)
    hopper = read_image(HOPPER)
    hopper_face = find_face(*faces, hopper)
    # Grace Hopper: 333 + 0.1 * 187 = 351.7 -> 352, + 10 = 362.
    assert crop_box(FaceFrame(0, hopper, hopper_face)) == (180, 139, 367, 362)


def test_scrfds_box_is_used_as_is(portrait: Image, portrait_face: Face) -> None:
    box = FaceBox(175, 76, 266, 167, 0.9, detected=(170, 60, 270, 185))
    face = Face(box=box, points=portrait_face.points)
    assert crop_box(FaceFrame(0, portrait, face)) == (170, 60, 270, 195)
    # A tracked frame (no detection of its own) carries the last detected box with its
    # five points: here the face moved 7 px right and 3 down.
    moved = Face(box=FaceBox(182, 79, 273, 170), points=portrait_face.points + np.float32([7, 3]))
    boxes = detector_boxes([face, moved])
    assert boxes[0] == (170, 60, 270, 185)
    assert boxes[1] is not None
    assert np.abs(np.subtract(boxes[1], (177, 63, 277, 188))).max() <= 1


def test_boxes_are_smoothed_as_get_smoothened_boxes() -> None:
    # x1 = 0, 10, ..., 60 over 7 frames, worked through the reference loop by hand:
    # i 0-2: means of the next five (20, 30, 40); i 3-6: the mean of the last five
    # as already rewritten ([40, 30, 40, 50, 60] -> 44, then 46.8 -> 46, 48, 47.6 -> 47).
    boxes = [(x, 100, 200, 300) for x in range(0, 70, 10)]
    assert [box[0] for box in smoothed(boxes) if box] == [20, 30, 40, 44, 46, 48, 47]
    # A frame without a face splits the runs; a run under five frames is averaged
    # whole, in place like the reference: (0 + 4) / 2 = 2, then (2 + 4) / 2 = 3.
    split = smoothed([(0, 0, 10, 10), (4, 0, 10, 10), None, (9, 0, 10, 10)])
    assert split == [(2, 0, 10, 10), (3, 0, 10, 10), None, (9, 0, 10, 10)]


def test_crop_is_resized_linearly(portrait: Image, portrait_face: Face) -> None:
    frame = FaceFrame(0, portrait, portrait_face)
    x1, y1, x2, y2 = crop_box(frame)
    linear = cv2.resize(portrait[y1:y2, x1:x2], (96, 96))[..., ::-1]
    batch = face_batch([frame])
    assert np.allclose(batch[0, 3:].transpose(1, 2, 0) * 255.0, linear, atol=1e-3)


@pytest.mark.parametrize("paste", ["feather", "reference"])
def test_generated_chin_is_kept(
    tmp_path: Path, portrait: Image, portrait_face: Face, paste: str
) -> None:
    engine = load_inverting(tmp_path, paste=paste)
    frame = FaceFrame(0, portrait, portrait_face)
    result = engine.driver(tone(), fps=FPS, frames=25).render([frame])[0]
    x1, y1, x2, y2 = crop_box(frame)
    # What the reference puts in the box: the generated crop cut to uint8, resized linearly.
    crop = cv2.resize(portrait[y1:y2, x1:x2], (96, 96))
    crop[48:] = 255 - crop[48:]
    pasted = cv2.resize(crop, (x2 - x1, y2 - y1))
    chin_x, chin_y = (int(v) for v in portrait_face.points[8])
    chin = (slice(chin_y - 1, chin_y + 2), slice(chin_x - 1, chin_x + 2))
    local = (slice(chin_y - y1 - 1, chin_y - y1 + 2), slice(chin_x - x1 - 1, chin_x - x1 + 2))
    # The chin comes back as generated (inverted), not blended toward the original
    # (within 2: the stand-in's float arithmetic, cut to uint8, may land one lower).
    assert np.abs(result[chin].astype(int) - pasted[local].astype(int)).max() <= 2
    assert np.abs(result[chin].astype(int) - portrait[chin].astype(int)).mean() > 60
    if paste == "reference":
        assert np.abs(result[y1:y2, x1:x2].astype(int) - pasted.astype(int)).max() <= 2
    else:
        # Soft sides: the box's top-left corner keeps the original picture.
        assert np.abs(result[y1, x1].astype(int) - portrait[y1, x1].astype(int)).max() <= 2
    assert math.isclose(float(result[: y1 - 1].mean()), float(portrait[: y1 - 1].mean()))
