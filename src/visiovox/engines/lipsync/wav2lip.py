"""Wav2Lip (ONNX) exactly as it was trained: mel windows and 96×96 lower-half-masked crops.

Public ONNX inference code for Wav2Lip exports feeds ``mel_spectrogram``
(N×1×80×16) and ``video_frames`` (N×6×96×96, batches of 8 at warm-up) and gets
N×3×96×96 in [0, 1] back; FaceFusion's ``wav2lip_gan_96.onnx`` names the same
tensors ``source`` and ``target``. The inputs are told apart by shape (6
channels: the faces, 1: the mel), so either naming works; a graph with a fixed
batch of 1 is fed frame by frame. The manifest's ``wav2lip-gan`` file could not
be opened here (the hub is unreachable), hence no reliance on names. Per output frame i:
the mel window starts at ``int(i·80/fps)`` (``mel.mel_window``); the face crop
is the detector's box padded by (top 0, bottom 10, left 0, right 0) pixels,
resized to 96×96, in BGR as Wav2Lip's OpenCV code read it; its lower half is
zeroed and the unmasked crop stacked behind it as the reference (6 channels,
scaled to [0, 1]). Frames go through the model in batches; each generated
crop is resized back and blended in under a feathered mask, so no hard box
edge shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from visiovox.engines.face.types import Image
from visiovox.engines.lipsync.base import SPEECH_RATE, FaceFrame, LipSyncDriver, LipSyncEngine
from visiovox.engines.lipsync.drive import SILENCE_RMS, frame_rms
from visiovox.engines.lipsync.mel import mel_window, wav2lip_mel
from visiovox.errors import PipelineError
from visiovox.models.cache import prepare_model

if TYPE_CHECKING:
    import onnxruntime as ort

MODEL_ID = "wav2lip-gan"
CROP = 96
MEL_STEPS = 16
# Wav2Lip's default --pads: top, bottom, left, right, in pixels.
PADS = (0, 10, 0, 0)
BATCH_SIZE = 16
# The feathered mask's ramp, as a share of the crop's side.
FEATHER = 0.12

Batch = npt.NDArray[np.float32]


def crop_box(frame: FaceFrame) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2) of the face box padded as Wav2Lip pads it, inside the image."""
    height, width = frame.image.shape[:2]
    box = frame.face.box
    top, bottom, left, right = PADS
    return (
        max(0, box.left - left),
        max(0, box.top - top),
        min(width, box.right + right),
        min(height, box.bottom + bottom),
    )


def face_batch(frames: Sequence[FaceFrame]) -> Batch:
    """N×6×96×96: each crop (BGR, [0, 1]) with its lower half zeroed, then the crop itself."""
    import cv2

    crops = []
    for frame in frames:
        x1, y1, x2, y2 = crop_box(frame)
        crop = cv2.resize(frame.image[y1:y2, x1:x2], (CROP, CROP), interpolation=cv2.INTER_AREA)
        crops.append(crop[..., ::-1])
    reference = np.stack(crops).astype(np.float32) / 255.0
    masked = reference.copy()
    masked[:, CROP // 2 :] = 0.0
    return np.ascontiguousarray(np.concatenate([masked, reference], axis=3).transpose(0, 3, 1, 2))


def mel_batch(mel: npt.NDArray[np.float32], indices: Sequence[int], *, fps: float) -> Batch:
    """N×1×80×16: the mel window of each output frame index."""
    windows = [mel_window(mel, frame=index, fps=fps, steps=MEL_STEPS) for index in indices]
    return np.ascontiguousarray(np.stack(windows)[:, None])


def feather_mask(width: int, height: int) -> npt.NDArray[np.float32]:
    """1 inside, falling smoothly to 0 at every edge of a width×height box."""

    def ramp(size: int) -> npt.NDArray[np.float32]:
        distance = np.minimum(np.arange(size), np.arange(size)[::-1]) + 0.5
        edge = max(1.0, FEATHER * size)
        x = np.clip(distance / edge, 0.0, 1.0)
        return (x * x * (3.0 - 2.0 * x)).astype(np.float32)

    return np.outer(ramp(height), ramp(width))[..., None]


class Wav2LipDriver(LipSyncDriver):
    """One job's mel spectrogram, fed with face crops batch by batch."""

    batch_size = BATCH_SIZE

    def __init__(self, engine: Wav2Lip, mel: npt.NDArray[np.float32], *, fps: float) -> None:
        self.engine = engine
        self.mel = mel
        self.fps = fps

    def render(self, frames: Sequence[FaceFrame]) -> list[Image]:
        usable = [frame for frame in frames if _has_crop(frame)]
        if not usable:
            return [frame.image.copy() for frame in frames]
        faces = face_batch(usable)
        mels = mel_batch(self.mel, [frame.index for frame in usable], fps=self.fps)
        generated = iter(self.engine.generate(mels, faces))
        # A face box off the picture has nothing to crop: that frame stays as it is.
        return [
            _paste(frame, next(generated)) if _has_crop(frame) else frame.image.copy()
            for frame in frames
        ]


def _has_crop(frame: FaceFrame) -> bool:
    x1, y1, x2, y2 = crop_box(frame)
    return x2 - x1 >= 2 and y2 - y1 >= 2


def _paste(frame: FaceFrame, generated: npt.NDArray[np.float32]) -> Image:
    import cv2

    x1, y1, x2, y2 = crop_box(frame)
    crop = np.clip(generated.transpose(1, 2, 0)[..., ::-1] * 255.0, 0, 255).astype(np.float32)
    resized = cv2.resize(crop, (x2 - x1, y2 - y1), interpolation=cv2.INTER_LINEAR)
    mask = feather_mask(x2 - x1, y2 - y1)
    out = frame.image.copy()
    region = out[y1:y2, x1:x2].astype(np.float32)
    out[y1:y2, x1:x2] = np.clip(region * (1.0 - mask) + resized * mask, 0, 255).astype(np.uint8)
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
