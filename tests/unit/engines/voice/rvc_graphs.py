"""Stand-ins for RVC's three ONNX models, built here with the real models' names and shapes.

- content encoder (ContentVec as w-okada's voice changer exports it,
  ``contentvec-f.onnx``): ``audio`` (1, N) samples in; ``units9`` (1, T, 256),
  ``unit12`` and ``unit12s`` (1, T, 768) out, T = (N - 400) // 320 + 1 (HuBERT's
  convolution stack: a 400-sample receptive field, a 320-sample stride), here
  one strided Conv;
- RMVPE (``rmvpe.onnx``): log-mel (1, 128, T) in, salience (1, T, 360) out;
- a voice's synthesizer as RVC's ``infer/modules/onnx/export.py`` writes it:
  ``phone`` (1, T, 768), ``phone_lengths`` (1,), ``pitch`` (1, T) int64,
  ``pitchf`` (1, T), ``ds`` (1,), ``rnd`` (1, 192, T) in, ``audio`` (1, 1,
  T * rate / 100) out.

Their weights are random: the numbers they give are not speech, only the
plumbing and the cost of the code around them are real.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import yaml
from onnx import TensorProto, helper, numpy_helper

from visiovox.config import Settings, load_settings
from visiovox.engines.voice.rvc import CONTENT_ENCODER, PITCH_MODEL
from visiovox.models.hashing import sha256_of

OPSET = [helper.make_opsetid("", 17)]
_FLOAT = TensorProto.FLOAT
_INT64 = TensorProto.INT64


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(helper.make_model(graph, opset_imports=OPSET), str(path))
    return path


def encoder_graph(path: Path, *, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    conv = rng.standard_normal((768, 1, 400)).astype(np.float32) * 0.05
    projection = rng.standard_normal((768, 256)).astype(np.float32) * 0.05
    graph = helper.make_graph(
        [
            helper.make_node("Unsqueeze", ["audio", "channel"], ["mono"]),
            helper.make_node("Conv", ["mono", "w"], ["conv"], strides=[320]),
            helper.make_node("Transpose", ["conv"], ["unit12"], perm=[0, 2, 1]),
            helper.make_node("Neg", ["unit12"], ["unit12s"]),
            helper.make_node("MatMul", ["unit12", "projection"], ["units9"]),
        ],
        "contentvec_stand_in",
        [helper.make_tensor_value_info("audio", _FLOAT, [1, "N"])],
        [
            helper.make_tensor_value_info("units9", _FLOAT, [1, "T", 256]),
            helper.make_tensor_value_info("unit12", _FLOAT, [1, "T", 768]),
            helper.make_tensor_value_info("unit12s", _FLOAT, [1, "T", 768]),
        ],
        [
            numpy_helper.from_array(conv, "w"),
            numpy_helper.from_array(projection, "projection"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "channel"),
        ],
    )
    return _save(graph, path)


def rmvpe_graph(path: Path, *, seed: int = 2) -> Path:
    weights = np.random.default_rng(seed).standard_normal((128, 360)).astype(np.float32) * 0.05
    graph = helper.make_graph(
        [
            helper.make_node("Transpose", ["input"], ["frames"], perm=[0, 2, 1]),
            helper.make_node("MatMul", ["frames", "w"], ["logits"]),
            helper.make_node("Sigmoid", ["logits"], ["output"]),
        ],
        "rmvpe_stand_in",
        [helper.make_tensor_value_info("input", _FLOAT, [1, 128, "T"])],
        [helper.make_tensor_value_info("output", _FLOAT, [1, "T", 360])],
        [numpy_helper.from_array(weights, "w")],
    )
    return _save(graph, path)


def synthesizer_inputs(content_dim: int = 768) -> list[onnx.ValueInfoProto]:
    return [
        helper.make_tensor_value_info("phone", _FLOAT, [1, "T", content_dim]),
        helper.make_tensor_value_info("phone_lengths", _INT64, [1]),
        helper.make_tensor_value_info("pitch", _INT64, [1, "T"]),
        helper.make_tensor_value_info("pitchf", _FLOAT, [1, "T"]),
        helper.make_tensor_value_info("ds", _INT64, [1]),
        helper.make_tensor_value_info("rnd", _FLOAT, [1, 192, "T"]),
    ]


def synthesizer_graph(
    path: Path, *, sample_rate: int = 40_000, seed: int = 3, content_dim: int = 768
) -> Path:
    """``audio`` = the frames times a (768, rate / 100) matrix, plus pitchf / 1000 per frame."""
    hop = sample_rate // 100
    weights = np.random.default_rng(seed).standard_normal((content_dim, hop)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["phone", "w"], ["frames"]),
            helper.make_node("Unsqueeze", ["pitchf", "last"], ["pitch_col"]),
            helper.make_node("Mul", ["pitch_col", "milli"], ["pitch_part"]),
            helper.make_node("Add", ["frames", "pitch_part"], ["voiced"]),
            helper.make_node("Tanh", ["voiced"], ["bounded"]),
            helper.make_node("Reshape", ["bounded", "flat"], ["audio"]),
        ],
        "rvc_synthesizer_stand_in",
        synthesizer_inputs(content_dim),
        [helper.make_tensor_value_info("audio", _FLOAT, [1, 1, "N"])],
        [
            numpy_helper.from_array(weights * 0.01, "w"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "last"),
            numpy_helper.from_array(np.array(0.001, dtype=np.float32), "milli"),
            numpy_helper.from_array(np.array([1, 1, -1], dtype=np.int64), "flat"),
        ],
    )
    return _save(graph, path)


def _entry(model_id: str, path: Path) -> dict[str, object]:
    return {
        "id": model_id,
        "task": "voice-convert",
        "engine": "voice.rvc",
        "license": "test graph",
        "files": [{"path": path.name, "sha256": sha256_of(path), "size": path.stat().st_size}],
        "sources": [{"type": "url", "files": {path.name: f"http://127.0.0.1:9/{path.name}"}}],
    }


def stand_in_models(root: Path) -> dict[str, object]:
    """The two shared stand-ins in a model cache under ``root``; the ``models`` settings."""
    cache = root / "cache"
    encoder = encoder_graph(cache / CONTENT_ENCODER / "contentvec-f.onnx")
    rmvpe = rmvpe_graph(cache / PITCH_MODEL / "rmvpe.onnx")
    manifest = root / "models.yaml"
    entries = [_entry(CONTENT_ENCODER, encoder), _entry(PITCH_MODEL, rmvpe)]
    manifest.write_text(yaml.safe_dump({"models": entries}))
    return {"cache_dir": cache, "manifest": manifest, "offline": True}


def project_manifest_with_stand_ins(root: Path) -> dict[str, str]:
    """Worker settings: the project's manifest, its ContentVec and RMVPE entries the stand-ins."""
    models = stand_in_models(root)
    stand_ins = yaml.safe_load(Path(str(models["manifest"])).read_text())["models"]
    replaced = {entry["id"] for entry in stand_ins}
    manifest = yaml.safe_load(Path("configs/models.yaml").read_text())
    manifest["models"] = [e for e in manifest["models"] if e["id"] not in replaced] + stand_ins
    merged = root / "project-models.yaml"
    merged.write_text(yaml.safe_dump(manifest))
    return {
        "VISIOVOX_MODELS__MANIFEST": str(merged),
        "VISIOVOX_MODELS__CACHE_DIR": str(models["cache_dir"]),
    }


def stand_in_settings(root: Path) -> Settings:
    return load_settings(models=stand_in_models(root))
