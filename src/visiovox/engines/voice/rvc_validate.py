"""A worker's check of an uploaded voice: the graph is safe, is RVC v2's synthesizer, and runs.

In order, each failure ``InvalidVoiceModel``: the untrusted-graph checks and
the synthesizer's inputs and output (``rvc_graph``), then one run on 32
frames of silence, whose audio must be 32 x rate / 100 samples (RVC's
generators upsample each 10 ms frame to one hop of the voice's rate: 320,
400 or 480 samples), so a wrong declared ``sample_rate`` is caught here; and
the feature bank's ``.npy`` header: 2-D, 768 columns, float32 or float16,
no pickled objects (``allow_pickle=False`` when the engine loads it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visiovox.config import Settings
from visiovox.engines.voice.rvc_graph import (
    CONTENT_DIM,
    NOISE_DIM,
    InvalidVoiceModel,
    check_synthesizer,
    read_untrusted,
)

PROBE_FRAMES = 32
BANK_DTYPES = (np.dtype(np.float32), np.dtype(np.float16))


@dataclass(frozen=True)
class VoiceCheck:
    """What the check found: the graph's node count and the bank's rows (0: none)."""

    nodes: int
    bank_rows: int


def validate_voice(
    *, model: Path, bank: Path | None, sample_rate: int, settings: Settings, device: str
) -> VoiceCheck:
    """Check the voice's files; raises ``InvalidVoiceModel`` with the reason."""
    if not model.is_file():
        raise InvalidVoiceModel("the voice's model file is missing")
    proto = read_untrusted(model, max_initializer_bytes=settings.voices.max_initializer_bytes)
    check_synthesizer(proto)
    _probe(model, sample_rate=sample_rate, settings=settings, device=device)
    rows = _bank_rows(bank) if bank is not None and bank.exists() else 0
    return VoiceCheck(nodes=len(proto.graph.node), bank_rows=rows)


def _probe(model: Path, *, sample_rate: int, settings: Settings, device: str) -> None:
    from visiovox.models.onnx_session import create_session

    frames = PROBE_FRAMES
    feed = {
        "phone": np.zeros((1, frames, CONTENT_DIM), dtype=np.float32),
        "phone_lengths": np.array([frames], dtype=np.int64),
        "pitch": np.ones((1, frames), dtype=np.int64),
        "pitchf": np.zeros((1, frames), dtype=np.float32),
        "ds": np.zeros(1, dtype=np.int64),
        "rnd": np.zeros((1, NOISE_DIM, frames), dtype=np.float32),
    }
    try:
        session = create_session(model, settings=settings, device=device, warmup=False).session
        audio = np.asarray(session.run(None, feed)[0])
    except Exception as exc:  # onnxruntime raises its own types for any graph it cannot run
        raise InvalidVoiceModel(f"the synthesizer does not run: {str(exc)[:200]}") from None
    expected = frames * sample_rate // 100
    if audio.ndim != 3 or audio.shape[:2] != (1, 1) or audio.shape[2] != expected:
        raise InvalidVoiceModel(
            f"{frames} frames gave audio of shape {tuple(audio.shape)}, not (1, 1, {expected}): "
            f"the model does not speak at the declared {sample_rate} Hz"
        )


def _bank_rows(bank: Path) -> int:
    try:
        with bank.open("rb") as handle:
            major, _ = np.lib.format.read_magic(handle)
            read_header = (
                np.lib.format.read_array_header_1_0
                if major == 1
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(handle)
    except (ValueError, OSError) as exc:
        raise InvalidVoiceModel(f"the index is not a .npy array: {exc}") from None
    if dtype not in BANK_DTYPES or len(shape) != 2 or shape[1] != CONTENT_DIM or shape[0] < 1:
        raise InvalidVoiceModel(
            f"the index must be (rows, {CONTENT_DIM}) float32 or float16, not {shape} {dtype}"
        )
    return int(shape[0])
