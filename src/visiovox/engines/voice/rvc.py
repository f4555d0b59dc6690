"""RVC v2 on ONNX Runtime: content encoder, RMVPE and a registered voice's synthesizer.

The shared models come from the manifest (``contentvec-768-l12``: ContentVec as
w-okada's voice changer exports it, ``audio`` (1, N) 16 kHz samples in, its
12th layer ``unit12`` (1, N/320, 768) the output RVC v2 reads;
``rmvpe``: log-mel (1, 128, T) in, salience (1, T, 360) out); a voice is an
uploaded synthesizer (``rvc_graph``) with an optional feature bank (``.npy``,
(rows, 768)) and its sample rate. One conversion follows RVC's
``Pipeline.pipeline`` for one segment (``x_pad`` 1 s of reflected audio each
side, as RVC's CPU settings): high-pass, RMVPE F0 with the key shift and
coarse mapping, features with retrieval, doubling and ``protect``, the
synthesizer with ``rnd`` noise, the padding trimmed at the voice's rate and
the peak held under 0.99. RVC splits inputs over 41 s at quiet points; here
the pipeline's own length cap bounds one segment.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from visiovox.engines.base import Engine
from visiovox.engines.voice.rvc_features import (
    double_frames,
    highpass,
    protect_unvoiced,
    retrieve,
)
from visiovox.engines.voice.rvc_pitch import (
    HOP,
    SAMPLE_RATE,
    coarse_pitch,
    decode_salience,
    log_mel,
    mel_filterbank,
    pad_frames,
    shift_f0,
)
from visiovox.models.cache import prepare_model

if TYPE_CHECKING:
    import onnxruntime as ort

CONTENT_ENCODER = "contentvec-768-l12"
# The encoder's outputs: ``units9`` (layer 9 through final_proj, 256-d, RVC v1),
# ``unit12`` (layer 12, 768-d: what RVC v2 reads) and ``unit12s``.
CONTENT_OUTPUT = "unit12"
PITCH_MODEL = "rmvpe"
PAD_S = 1
PEAK = 0.99
NOISE_DIM = 192
# Synthesizer sessions kept loaded per worker, least recently used dropped first.
CACHED_VOICES = 4

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class RvcVoice:
    """A registered voice's files and the rate its synthesizer speaks at."""

    model: Path
    sample_rate: int
    bank: Path | None = None
    speaker: int = 0


@dataclass(frozen=True)
class RvcSettings:
    """One conversion's knobs, RVC's names: ``f0_up_key``, ``index_rate``, ``protect``."""

    pitch_shift: float = 0.0
    index_rate: float = 0.75
    protect: float = 0.33


@dataclass(frozen=True)
class RvcOutput:
    """Converted samples at the voice's rate, with the source's F0 track (Hz, 10 ms frames)."""

    samples: FloatArray
    sample_rate: int
    f0_hz: FloatArray


class RvcConverter(Engine):
    """RVC v2 voice conversion with ONNX sessions from the project's session factory."""

    name = "voice.rvc"
    models = (CONTENT_ENCODER, PITCH_MODEL)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._encoder: ort.InferenceSession | None = None
        self._pitch: ort.InferenceSession | None = None
        self._filters = mel_filterbank()
        self._voices: OrderedDict[RvcVoice, tuple[ort.InferenceSession, FloatArray | None]] = (
            OrderedDict()
        )

    def load(self) -> None:
        self._encoder = self._session(
            next(prepare_model(self.settings, CONTENT_ENCODER).glob("*.onnx"))
        )
        self._pitch = self._session(next(prepare_model(self.settings, PITCH_MODEL).glob("*.onnx")))

    def close(self) -> None:
        self._encoder = self._pitch = None
        self._voices.clear()

    def convert(self, samples: FloatArray, *, voice: RvcVoice, knobs: RvcSettings) -> RvcOutput:
        """``samples`` (mono, 16 kHz) spoken by ``voice``, trimmed to the input's duration."""
        synthesizer, bank = self._voice(voice)
        audio = highpass(samples.astype(np.float32))
        padded = np.pad(audio, SAMPLE_RATE * PAD_S, mode="reflect")
        frames = len(padded) // HOP
        f0 = shift_f0(self.f0(padded)[:frames], knobs.pitch_shift)
        feats = self.content(padded)
        original = double_frames(feats)
        if bank is not None:
            feats = retrieve(feats, bank, index_rate=knobs.index_rate)
        feats = double_frames(feats)
        frames = min(frames, len(feats))
        feats, original, f0 = feats[:frames], original[:frames], f0[:frames]
        feats = protect_unvoiced(feats, original, f0, protect=knobs.protect)
        rng = np.random.default_rng()
        out = synthesizer.run(
            None,
            {
                "phone": feats[None].astype(np.float32),
                "phone_lengths": np.array([frames], dtype=np.int64),
                "pitch": coarse_pitch(f0)[None],
                "pitchf": f0[None].astype(np.float32),
                "ds": np.array([voice.speaker], dtype=np.int64),
                "rnd": rng.standard_normal((1, NOISE_DIM, frames)).astype(np.float32),
            },
        )[0]
        pad_out = voice.sample_rate * PAD_S
        converted = np.asarray(out, dtype=np.float32).reshape(-1)[pad_out:-pad_out]
        wanted = round(len(samples) * voice.sample_rate / SAMPLE_RATE)
        converted = np.pad(converted, (0, max(0, wanted - len(converted))))[:wanted]
        peak = float(np.abs(converted).max(initial=0.0)) / PEAK
        if peak > 1.0:
            converted = converted / peak
        return RvcOutput(samples=converted, sample_rate=voice.sample_rate, f0_hz=f0)

    def f0(self, samples: FloatArray) -> FloatArray:
        """RMVPE's F0 (Hz) of 16 kHz ``samples``: one value per 160 samples, plus one."""
        if self._pitch is None:
            raise RuntimeError(f"{self.name} is not loaded")
        mel = log_mel(samples, self._filters)
        frames = mel.shape[1]
        feed = {self._pitch.get_inputs()[0].name: pad_frames(mel)[None]}
        salience = np.asarray(self._pitch.run(None, feed)[0])[0, :frames]
        return decode_salience(salience)

    def content(self, samples: FloatArray) -> FloatArray:
        """ContentVec's (frames, 768) features of 16 kHz ``samples`` (one per 320 samples)."""
        if self._encoder is None:
            raise RuntimeError(f"{self.name} is not loaded")
        feed = {self._encoder.get_inputs()[0].name: samples.astype(np.float32)[None]}
        return np.asarray(self._encoder.run([CONTENT_OUTPUT], feed)[0][0], dtype=np.float32)

    def _voice(self, voice: RvcVoice) -> tuple[ort.InferenceSession, FloatArray | None]:
        cached = self._voices.get(voice)
        if cached is None:
            bank = None
            if voice.bank is not None:
                bank = np.load(voice.bank, allow_pickle=False).astype(np.float32)
            cached = (self._session(voice.model), bank)
            self._voices[voice] = cached
            while len(self._voices) > CACHED_VOICES:
                self._voices.popitem(last=False)
        self._voices.move_to_end(voice)
        return cached

    def _session(self, path: Path) -> ort.InferenceSession:
        from visiovox.models.onnx_session import create_session

        return create_session(
            path, settings=self.settings, device=self.device, warmup=False
        ).session
