"""Wav2Lip (ONNX) exactly as it was trained: mel windows and 96×96 lower-half-masked crops.

Public ONNX inference code for Wav2Lip exports feeds ``mel_spectrogram``
(N×1×80×16) and ``video_frames`` (N×6×96×96, batches of 8 at warm-up) and gets
N×3×96×96 in [0, 1] back; FaceFusion's ``wav2lip_gan_96.onnx`` names the same
tensors ``source`` and ``target``. The inputs are told apart by shape (6
channels: the faces, 1: the mel), so either naming works; a graph with a fixed
batch of 1 is fed frame by frame. The manifest's ``wav2lip-gan`` file could not
be opened here (the hub is unreachable), hence no reliance on names. Per output frame i:
the mel window starts at ``int(i·80/fps)`` (``mel.mel_window``); the face crop
is the box ``face_box`` makes as Wav2Lip's ``inference.py`` does (the
detector's box holding the chin, padded by (top 0, bottom 10, left 0, right 0)
pixels, smoothed over 5 frames), resized to 96×96 with OpenCV's default
linear resize, in BGR as Wav2Lip's OpenCV code read it; its lower half is
zeroed and the unmasked crop stacked behind it as the reference (6 channels,
scaled to [0, 1]). Frames go through the model in batches; each generated
crop is cut to ``uint8`` and resized back linearly, as the reference does.
The reference then pastes it hard, which leaves the box's edge visible on the
cheeks and forehead; by default (``lipsync.wav2lip_paste: feather``) it is
blended in under a soft edge instead, at the bottom only below the chin, so
the generated chin and jaw line are kept. ``reference`` pastes hard.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from visiovox.engines.face.types import Image
from visiovox.engines.lipsync.base import SPEECH_RATE, FaceFrame, LipSyncDriver, LipSyncEngine
from visiovox.engines.lipsync.drive import SILENCE_RMS, frame_rms
from visiovox.engines.lipsync.face_box import CHIN, CropBox, crop_boxes
from visiovox.engines.lipsync.mel import mel_window, wav2lip_mel
from visiovox.errors import PipelineError
from visiovox.models.cache import prepare_model

if TYPE_CHECKING:
    import onnxruntime as ort

MODEL_ID = "wav2lip-gan"
CROP = 96
MEL_STEPS = 16
BATCH_SIZE = 16
# The feathered mask's ramp, as a share of the crop's side.
FEATHER = 0.12

Batch = npt.NDArray[np.float32]


def crop_box(frame: FaceFrame) -> CropBox:
    """(x1, y1, x2, y2) Wav2Lip crops: the pipeline's smoothed box, else this face's own."""
    if frame.crop is not None:
        return frame.crop
    height, width = frame.image.shape[:2]
    box = crop_boxes([frame.face], width=width, height=height)[0]
    assert box is not None
    return box


def face_batch(frames: Sequence[FaceFrame]) -> Batch:
    """N×6×96×96: each crop (BGR, [0, 1]) with its lower half zeroed, then the crop itself."""
    import cv2

    crops = []
    for frame in frames:
        x1, y1, x2, y2 = crop_box(frame)
        crop = cv2.resize(frame.image[y1:y2, x1:x2], (CROP, CROP))
        crops.append(crop[..., ::-1])
    reference = np.stack(crops).astype(np.float32) / 255.0
    masked = reference.copy()
    masked[:, CROP // 2 :] = 0.0
    return np.ascontiguousarray(np.concatenate([masked, reference], axis=3).transpose(0, 3, 1, 2))


def mel_batch(mel: npt.NDArray[np.float32], indices: Sequence[int], *, fps: float) -> Batch:
    """N×1×80×16: the mel window of each output frame index."""
    windows = [mel_window(mel, frame=index, fps=fps, steps=MEL_STEPS) for index in indices]
    return np.ascontiguousarray(np.stack(windows)[:, None])


def _ramp(size: int, edge: float) -> npt.NDArray[np.float32]:
    """Near 0 at index 0, rising smoothly to 1 at ``edge`` (1 throughout when ``edge`` < 1)."""
    if edge < 1.0:
        return np.ones(size, dtype=np.float32)
    x = np.clip((np.arange(size) + 0.5) / edge, 0.0, 1.0)
    return np.asarray(x * x * (3.0 - 2.0 * x), dtype=np.float32)


def feather_mask(width: int, height: int, *, below_chin: int) -> npt.NDArray[np.float32]:
    """1 inside, falling to 0 at the top, left and right edges of a width×height box.

    The bottom edge fades only within the ``below_chin`` rows under the chin:
    the lower half is what the model generated, and blending the chin back
    toward the original would undo the jaw's movement.
    """
    edge_w, edge_h = FEATHER * width, FEATHER * height
    columns = np.minimum(_ramp(width, edge_w), _ramp(width, edge_w)[::-1])
    bottom = _ramp(height, min(edge_h, float(below_chin)))[::-1]
    rows = np.minimum(_ramp(height, edge_h), bottom)
    return np.outer(rows, columns)[..., None]


class Wav2LipDriver(LipSyncDriver):
    """One job's mel spectrogram, fed with face crops batch by batch."""

    batch_size = BATCH_SIZE

    def __init__(self, engine: Wav2Lip, mel: npt.NDArray[np.float32], *, fps: float) -> None:
        self.engine = engine
        self.mel = mel
        self.fps = fps
        self.hard_paste = engine.settings.lipsync.wav2lip_paste == "reference"

    def render(self, frames: Sequence[FaceFrame]) -> list[Image]:
        usable = [frame for frame in frames if _has_crop(frame)]
        if not usable:
            return [frame.image.copy() for frame in frames]
        faces = face_batch(usable)
        mels = mel_batch(self.mel, [frame.index for frame in usable], fps=self.fps)
        generated = iter(self.engine.generate(mels, faces))
        # A face box off the picture has nothing to crop: that frame stays as it is.
        return [
            paste(frame, next(generated), hard=self.hard_paste)
            if _has_crop(frame)
            else frame.image.copy()
            for frame in frames
        ]


def _has_crop(frame: FaceFrame) -> bool:
    x1, y1, x2, y2 = crop_box(frame)
    return x2 - x1 >= 2 and y2 - y1 >= 2


def paste(frame: FaceFrame, generated: npt.NDArray[np.float32], *, hard: bool = False) -> Image:
    """The frame with the model's 3×96×96 output (BGR in [0, 1]) put in its crop box.

    As ``inference.py``: ``(pred * 255).astype(uint8)`` (turned from BGR to RGB), a
    linear resize to the box; ``hard`` pastes it as the reference does, else
    under ``feather_mask``.
    """
    import cv2

    x1, y1, x2, y2 = crop_box(frame)
    crop = np.clip(generated.transpose(1, 2, 0)[..., ::-1] * 255.0, 0, 255).astype(np.uint8)
    resized = cv2.resize(crop, (x2 - x1, y2 - y1))
    out = frame.image.copy()
    if hard:
        out[y1:y2, x1:x2] = resized
        return out
    below_chin = y2 - math.ceil(float(frame.face.points[CHIN, 1]))
    mask = feather_mask(x2 - x1, y2 - y1, below_chin=below_chin)
    region = out[y1:y2, x1:x2].astype(np.float32)
    mixed = region * (1.0 - mask) + resized.astype(np.float32) * mask
    out[y1:y2, x1:x2] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    return out


class Wav2Lip(LipSyncEngine):
    """Wav2Lip on 96×96 crops; research-only weights, ``lipsync.wav2lip_model`` picks which."""

    name = "lipsync.wav2lip"
    models = (MODEL_ID,)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._session: ort.InferenceSession | None = None
        self._mel_input = self._face_input = ""
        self._fixed_batch: int | None = None

    def required_models(self) -> tuple[str, ...]:
        """The configured Wav2Lip weights (``wav2lip-gan`` by default)."""
        return (self.settings.lipsync.wav2lip_model,)

    def load(self) -> None:
        from visiovox.models.onnx_session import create_session

        model_id = self.required_models()[0]
        model = next(prepare_model(self.settings, model_id).glob("*.onnx"))
        loaded = create_session(model, settings=self.settings, device=self.device)
        self._session = loaded.session
        for arg in loaded.session.get_inputs():
            channels = arg.shape[1] if len(arg.shape) == 4 else None
            if channels == 6:
                self._face_input = arg.name
            elif channels == 1:
                self._mel_input = arg.name
        if not (self._face_input and self._mel_input):
            shapes = {arg.name: arg.shape for arg in loaded.session.get_inputs()}
            raise RuntimeError(f"{model.name} is not a Wav2Lip graph: inputs {shapes}")
        batch = loaded.session.get_inputs()[0].shape[0]
        self._fixed_batch = batch if isinstance(batch, int) and batch > 0 else None

    def close(self) -> None:
        self._session = None

    def driver(self, speech: npt.NDArray[np.float32], *, fps: float, frames: int) -> LipSyncDriver:
        if not (
            frame_rms(speech, sample_rate=SPEECH_RATE, fps=fps, frames=frames) > SILENCE_RMS
        ).any():
            raise PipelineError(
                "no_speech", "the audio holds no speech (it is silent or too quiet)"
            )
        return Wav2LipDriver(self, wav2lip_mel(speech), fps=fps)

    def generate(self, mels: Batch, faces: Batch) -> Batch:
        """The model's N×3×96×96 crops for N mel windows and N masked+reference crops."""
        if self._session is None:
            raise RuntimeError("lipsync.wav2lip is not loaded")
        step = self._fixed_batch or len(faces)
        outputs = []
        for start in range(0, len(faces), step):
            count = min(step, len(faces) - start)
            # A graph exported with a fixed batch gets its last batch padded with zeros.
            feed = {
                self._mel_input: _padded(mels[start : start + count], step),
                self._face_input: _padded(faces[start : start + count], step),
            }
            result = np.asarray(self._session.run(None, feed)[0], dtype=np.float32)
            outputs.append(result[:count])
        return np.concatenate(outputs)


def _padded(batch: Batch, size: int) -> Batch:
    if len(batch) >= size:
        return batch
    return np.concatenate([batch, np.zeros((size - len(batch), *batch.shape[1:]), batch.dtype)])
