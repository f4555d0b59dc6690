"""Silero VAD v6 (ONNX, from faster-whisper's assets) scoring 32 ms frames of a live stream.

The model (manifest id ``silero-vad``) takes 512 new samples at 16 kHz plus
the 64 samples before them, and carries an LSTM state (``h``, ``c``) from
frame to frame; each detector keeps its own state, so one loaded session
serves every live stream of the worker. Frames are scored one by one, as
they arrive: that is what keeps end-of-speech detection streaming.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from visiovox.engines.vad.base import SpeechDetector, VADEngine, VADOptions
from visiovox.models.cache import prepare_model

if TYPE_CHECKING:
    import onnxruntime as ort

log = logging.getLogger(__name__)

FRAME = 512
CONTEXT = 64
STATE_SHAPE = (1, 1, 128)


class SileroVAD(VADEngine):
    """Silero VAD on the CPU: a frame costs well under a millisecond, a GPU would not help."""

    name = "vad.silero"
    models = ("silero-vad",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._session: ort.InferenceSession | None = None

    def load(self) -> None:
        import onnxruntime as ort

        folder = prepare_model(self.settings, "silero-vad")
        options = ort.SessionOptions()
        # One frame at a time is latency-bound: more threads only add hand-offs.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(next(folder.glob("*.onnx"))),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        _SileroScorer(self._session)(np.zeros(FRAME, np.float32))
        log.info("silero vad loaded")

    def close(self) -> None:
        self._session = None

    def detector(self, options: VADOptions) -> SpeechDetector:
        if self._session is None:
            raise RuntimeError("SileroVAD.detector called before load()")
        return SpeechDetector(
            score=_SileroScorer(self._session), frame_samples=FRAME, options=options
        )


class _SileroScorer:
    """One stream's model state: scores consecutive 512-sample frames."""

    def __init__(self, session: ort.InferenceSession) -> None:
        self._session = session
        self._h = np.zeros(STATE_SHAPE, np.float32)
        self._c = np.zeros(STATE_SHAPE, np.float32)
        self._context = np.zeros(CONTEXT, np.float32)

    def __call__(self, frames: npt.NDArray[np.float32]) -> list[float]:
        scores: list[float] = []
        for frame in frames.reshape(-1, FRAME):
            window = np.concatenate([self._context, frame])[np.newaxis, :]
            probability, self._h, self._c = self._session.run(
                None, {"input": window, "h": self._h, "c": self._c}
            )
            self._context = frame[-CONTEXT:]
            scores.append(float(np.asarray(probability).reshape(-1)[0]))
        return scores
