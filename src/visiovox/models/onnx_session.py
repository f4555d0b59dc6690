"""ONNX Runtime sessions from one factory: providers in configured order, with fallback and warm-up.

``onnx.providers`` lists ``tensorrt``, ``cuda`` and ``cpu`` in order of
preference. A GPU provider is used only on a ``cuda:N`` worker (with
``device_id`` N) and only when this onnxruntime build has it; otherwise it is
skipped and the reason is logged. ONNX Runtime may also drop a provider at
session creation (missing CUDA or TensorRT libraries): that is logged too.
TensorRT builds fp16 engines and keeps engine and timing caches under
``models/.cache/trt/<onnxruntime version>/`` (built engines are only valid for
the version that built them). A warm-up inference on zeros runs at load, so
the first job does not pay for allocations and kernel selection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from visiovox.config import Settings
from visiovox.config_engines import ProviderName

log = logging.getLogger(__name__)

# ``import onnxruntime`` records telemetry events otherwise (ARCHITECTURE.md, known pitfalls).
if hasattr(ort, "disable_telemetry_events"):
    ort.disable_telemetry_events()

ORT_NAMES: dict[ProviderName, str] = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
_DTYPES: dict[str, type[np.generic]] = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}

ProviderSpec = str | tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class ProviderPlan:
    """The providers to ask ONNX Runtime for, and those skipped with the reason."""

    providers: tuple[ProviderSpec, ...]
    skipped: tuple[tuple[ProviderName, str], ...]


@dataclass(frozen=True)
class OnnxSession:
    """A ready session, the providers it really runs on, and what fell back and why."""

    session: ort.InferenceSession
    providers: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    warmup_s: float | None


def trt_cache_dir(settings: Settings) -> Path:
    """Where TensorRT engine and timing caches live for this onnxruntime version."""
    base = settings.onnx.trt_cache_dir or settings.models.cache_dir / ".cache" / "trt"
    return base / str(ort.__version__)


def plan_providers(
    settings: Settings, *, device: str, available: list[str] | None = None
) -> ProviderPlan:
    """The configured providers that this device and this onnxruntime build can use."""
    available = ort.get_available_providers() if available is None else available
    kind, _, index = device.partition(":")
    device_id = int(index or 0)
    chosen: list[ProviderSpec] = []
    skipped: list[tuple[ProviderName, str]] = []
    for name in dict.fromkeys(settings.onnx.providers):
        ort_name = ORT_NAMES[name]
        if name != "cpu" and kind != "cuda":
            skipped.append((name, f"the worker's device is {device}, not cuda:N"))
        elif ort_name not in available:
            reason = f"{ort_name} is not in this onnxruntime build (has {', '.join(available)})"
            skipped.append((name, reason))
        else:
            chosen.append(
                (ort_name, _options(name, settings, device_id)) if name != "cpu" else ort_name
            )
    if not chosen:
        skipped.append(("cpu", "nothing else was usable, so CPU runs it"))
        chosen.append(ORT_NAMES["cpu"])
    return ProviderPlan(providers=tuple(chosen), skipped=tuple(skipped))


def create_session(
    model: Path | bytes,
    *,
    settings: Settings,
    device: str,
    warmup: bool = True,
    warmup_inputs: Mapping[str, npt.NDArray[Any]] | None = None,
) -> OnnxSession:
    """A session for ``model`` on ``device``; runs one warm-up inference unless told not to.

    ``model`` is a file, or a serialized graph built in memory (BlazeFace's,
    converted from TFLite at load), named ``<in-memory graph>`` in the log.
    """
    label = model.name if isinstance(model, Path) else "<in-memory graph>"
    source = str(model) if isinstance(model, Path) else model
    plan = plan_providers(settings, device=device)
    options = ort.SessionOptions()
    options.intra_op_num_threads = settings.onnx.intra_op_threads
    options.inter_op_num_threads = settings.onnx.inter_op_threads
    spinning = "1" if settings.onnx.allow_spinning else "0"
    options.add_session_config_entry("session.intra_op.allow_spinning", spinning)
    options.add_session_config_entry("session.inter_op.allow_spinning", spinning)
    session = ort.InferenceSession(source, sess_options=options, providers=list(plan.providers))
    in_use = tuple(session.get_providers())
    skipped: list[tuple[str, str]] = list(plan.skipped)
    for spec in plan.providers:
        ort_name = spec if isinstance(spec, str) else spec[0]
        if ort_name not in in_use:
            skipped.append((ort_name, "onnxruntime could not initialise it (see its log)"))
    for name, reason in skipped:
        level = logging.INFO if reason.startswith("the worker's device") else logging.WARNING
        log.log(level, "%s: provider %s skipped: %s", label, name, reason)
    warmup_s = _warm_up(session, warmup_inputs) if warmup else None
    log.info(
        "onnx session %s on %s%s",
        label,
        ", ".join(in_use),
        f", warm-up {warmup_s * 1000:.1f} ms" if warmup_s is not None else "",
    )
    return OnnxSession(session=session, providers=in_use, skipped=tuple(skipped), warmup_s=warmup_s)


def zero_inputs(session: ort.InferenceSession) -> dict[str, npt.NDArray[Any]]:
    """Zeros shaped like every input, each dynamic dimension set to 1."""
    feed: dict[str, npt.NDArray[Any]] = {}
    for arg in session.get_inputs():
        shape = [dim if isinstance(dim, int) and dim > 0 else 1 for dim in arg.shape]
        try:
            dtype = _DTYPES[arg.type]
        except KeyError:
            raise ValueError(f"no warm-up value for input {arg.name} of type {arg.type}") from None
        feed[arg.name] = np.zeros(shape, dtype=dtype)
    return feed


def _warm_up(session: ort.InferenceSession, inputs: Mapping[str, npt.NDArray[Any]] | None) -> float:
    feed = dict(inputs) if inputs is not None else zero_inputs(session)
    started = time.perf_counter()
    session.run(None, feed)
    return time.perf_counter() - started


def _options(name: ProviderName, settings: Settings, device_id: int) -> dict[str, Any]:
    if name == "cuda":
        return {"device_id": device_id, "cudnn_conv_algo_search": "HEURISTIC"}
    cache = trt_cache_dir(settings)
    cache.mkdir(parents=True, exist_ok=True)
    return {
        "device_id": device_id,
        "trt_fp16_enable": settings.onnx.trt_fp16,
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(cache),
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": str(cache),
    }
