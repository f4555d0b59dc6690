"""The Wav2Lip engine on a test-built ONNX graph with the real export's names and shapes.

The graph takes ``mel_spectrogram`` (N×1×80×16) and ``video_frames``
(N×6×96×96), like the public Wav2Lip-GAN exports, and returns N×3×96×96 where
every pixel of item n is sigmoid(mean of n's mel window). So the value pasted
on frame i tells which mel window reached the model with it: the whole mel,
window-index and batching path is checked against the mel computed here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import yaml
from onnx import TensorProto, helper, numpy_helper

from visiovox.config import load_settings
from visiovox.engines.face.types import Face, FaceBox, Image
from visiovox.engines.lipsync.base import SPEECH_RATE, FaceFrame
from visiovox.engines.lipsync.mel import mel_window, wav2lip_mel
from visiovox.engines.lipsync.wav2lip import (
    MODEL_ID,
    Wav2Lip,
    crop_box,
    face_batch,
    feather_mask,
    mel_batch,
)
from visiovox.errors import PipelineError
from visiovox.models.errors import ModelUnavailable
from visiovox.models.hashing import sha256_of

FPS = 25.0


def wav2lip_graph(path: Path, *, batch: int | str = "N") -> None:
    mel = helper.make_tensor_value_info("mel_spectrogram", TensorProto.FLOAT, [batch, 1, 80, 16])
    faces = helper.make_tensor_value_info("video_frames", TensorProto.FLOAT, [batch, 6, 96, 96])
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, 3, 96, 96])
    constants = {
        "starts": np.array([3], dtype=np.int64),
        "ends": np.array([6], dtype=np.int64),
        "axes": np.array([1], dtype=np.int64),
        "zero": np.zeros((1,), dtype=np.float32),
    }
    nodes = [
        helper.make_node("Slice", ["video_frames", "starts", "ends", "axes"], ["reference"]),
        helper.make_node("Mul", ["reference", "zero"], ["blank"]),
        helper.make_node("ReduceMean", ["mel_spectrogram"], ["level"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Sigmoid", ["level"], ["grey"]),
        helper.make_node("Add", ["blank", "grey"], ["output"]),
    ]
    initializers = [numpy_helper.from_array(value, name) for name, value in constants.items()]
    graph = helper.make_graph(nodes, "wav2lip", [mel, faces], [output], initializers)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def load_engine(root: Path, *, batch: int | str = "N") -> Wav2Lip:
    cache = root / "cache"
    model = cache / MODEL_ID / "wav2lip_gan.onnx"
    model.parent.mkdir(parents=True)
    wav2lip_graph(model, batch=batch)
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
    settings = load_settings(models={"cache_dir": cache, "manifest": manifest, "offline": True})
    engine = Wav2Lip(settings=settings, device="cpu")
    engine.load()
    return engine


def chirp(seconds: float) -> np.ndarray:
    """A rising, pulsing tone: every mel window differs from its neighbours."""
    t = np.arange(int(SPEECH_RATE * seconds)) / SPEECH_RATE
    envelope = 0.2 + 0.8 * (np.sin(2 * np.pi * 3.0 * t) > 0)
    return (0.3 * envelope * np.sin(2 * np.pi * (200.0 + 900.0 * t) * t)).astype(np.float32)


def expected_grey(speech: np.ndarray, index: int) -> float:
    window = mel_window(wav2lip_mel(speech), frame=index, fps=FPS)
    return 255.0 / (1.0 + np.exp(-float(window.mean())))


@pytest.mark.parametrize("batch", ["N", 1])
def test_whole_path_batched_pastes_each_frames_own_mel_window(
    tmp_path: Path, portrait: Image, portrait_face: Face, batch: int | str
) -> None:
    engine = load_engine(tmp_path, batch=batch)
    speech = chirp(2.0)
    driver = engine.driver(speech, fps=FPS, frames=50)
    assert driver.batch_size > 1
    indices = [0, 7, 19, 30, 31, 49]
    frames = [FaceFrame(index, portrait, portrait_face) for index in indices]
    rendered = driver.render(frames)
    x1, y1, x2, y2 = crop_box(frames[0])
    centre = ((y1 + y2) // 2, (x1 + x2) // 2)
    for index, image in zip(indices, rendered, strict=True):
        assert image.shape == portrait.shape
        assert image[centre] == pytest.approx([expected_grey(speech, index)] * 3, abs=1.5)
    values = {int(image[centre][0]) for image in rendered}
    assert len(values) > 3  # the windows really differ, so the check above means something
    outside = np.ones(portrait.shape[:2], dtype=bool)
    outside[y1:y2, x1:x2] = False
    assert np.array_equal(rendered[0][outside], portrait[outside])
    # Soft paste: the box's edge keeps the original picture, no hard seam.
    assert np.abs(rendered[0][y1, x1:x2].astype(int) - portrait[y1, x1:x2]).max() <= 30


def test_crop_is_padded_10_below_and_inputs_have_the_models_shapes(
    portrait: Image, portrait_face: Face
) -> None:
    frame = FaceFrame(0, portrait, portrait_face)
    box = portrait_face.box
    # HOG's box lowered to chin + 10 % of its height (178 + 9.1 -> 188), then 10 below.
    assert crop_box(frame) == (box.left, box.top, box.right, 198)
    assert crop_box(FaceFrame(0, portrait, portrait_face, (1, 2, 30, 40))) == (1, 2, 30, 40)
    faces = face_batch([frame, frame, frame])
    assert faces.shape == (3, 6, 96, 96) and faces.dtype == np.float32
    assert np.all(faces[:, :3, 48:] == 0.0)  # lower half of the masked copy
    assert np.array_equal(faces[:, :3, :48], faces[:, 3:, :48])
    assert faces.min() >= 0.0 and faces.max() <= 1.0
    # BGR, as Wav2Lip read frames with OpenCV: skin is redder than blue, so channel 2 > 0.
    assert faces[0, 5].mean() > faces[0, 3].mean() + 0.1
    mels = mel_batch(wav2lip_mel(chirp(1.0)), [0, 5, 9], fps=FPS)
    assert mels.shape == (3, 1, 80, 16) and mels.dtype == np.float32


def test_feather_mask_is_zero_at_the_edges_and_one_inside() -> None:
    mask = feather_mask(80, 100, below_chin=5)
    assert mask.shape == (100, 80, 1)
    assert mask[0].max() < 0.01 and mask[:, 0].max() < 0.01 and mask[-1].max() < 0.05
    assert mask[50, 40, 0] == pytest.approx(1.0)
    # The bottom fades only under the chin (the last 5 rows here); 0 rows: a hard edge.
    assert mask[94, 40, 0] == pytest.approx(1.0)
    assert mask[99, 40, 0] < 0.05
    assert feather_mask(80, 100, below_chin=0)[99, 40, 0] == pytest.approx(1.0)


def test_a_face_box_off_the_picture_leaves_that_frame_alone(
    tmp_path: Path, portrait: Image, portrait_face: Face
) -> None:
    engine = load_engine(tmp_path)
    driver = engine.driver(chirp(1.0), fps=FPS, frames=25)
    gone = Face(box=FaceBox(left=600, top=600, right=700, bottom=700), points=portrait_face.points)
    kept, moved = driver.render(
        [FaceFrame(3, portrait, gone), FaceFrame(4, portrait, portrait_face)]
    )
    assert np.array_equal(kept, portrait)
    assert not np.array_equal(moved, portrait)


def test_silence_is_no_speech(tmp_path: Path) -> None:
    engine = load_engine(tmp_path)
    with pytest.raises(PipelineError) as caught:
        engine.driver(np.zeros(SPEECH_RATE, dtype=np.float32), fps=FPS, frames=25)
    assert caught.value.code == "no_speech"


def test_without_weights_loading_names_the_model_to_pull(tmp_path: Path) -> None:
    settings = load_settings(models={"cache_dir": tmp_path, "offline": True})
    with pytest.raises(ModelUnavailable) as caught:
        Wav2Lip(settings=settings, device="cpu").load()
    assert caught.value.code == "model_unavailable"
    assert MODEL_ID in caught.value.message


def test_the_plain_wav2lip_weights_are_a_setting(tmp_path: Path) -> None:
    settings = load_settings(
        models={"cache_dir": tmp_path, "offline": True}, lipsync={"wav2lip_model": "wav2lip"}
    )
    engine = Wav2Lip(settings=settings, device="cpu")
    assert engine.required_models() == ("wav2lip",)
    with pytest.raises(ModelUnavailable) as caught:
        engine.load()
    assert "visiovox models pull wav2lip" in caught.value.message
