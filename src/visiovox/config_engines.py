"""How engines are loaded and kept: ONNX Runtime's providers and threads, the engine pool.

The ``onnx`` and ``engines`` sections of the settings, kept apart from ``config.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

ProviderName = Literal["tensorrt", "cuda", "cpu"]
PROVIDER_NAMES: tuple[ProviderName, ...] = ("tensorrt", "cuda", "cpu")


class OnnxSettings(BaseModel):
    """ONNX Runtime sessions: execution providers in order of preference, and their options."""

    # Tried in order; those the build or the device lacks are skipped with a logged reason.
    providers: list[ProviderName] = Field(default_factory=lambda: list(PROVIDER_NAMES))
    # TensorRT: half precision, and where built engines and timing caches are kept;
    # None: <models.cache_dir>/.cache/trt/<onnxruntime version>.
    trt_fp16: bool = True
    trt_cache_dir: Path | None = None
    # CPU threads within one operator and across operators; 0 lets ONNX Runtime decide.
    intra_op_threads: int = 0
    inter_op_threads: int = 0
    # Let idle pool threads spin for more work: faster alone on a machine, but the
    # spinning takes cores from the other engines and processes (Piper 0.4 -> 0.8 s
    # a sentence beside a busy process); off by default.
    allow_spinning: bool = False


class EngineSettings(BaseModel):
    """The worker's engine pool: how much it keeps loaded and for how long."""

    # Estimated bytes of loaded engines before the least recently used idle one is
    # unloaded, in MiB; 0 means no limit.
    memory_budget_mb: int = 0
    # Seconds an idle engine stays loaded: -1 forever, 0 unloaded right after use.
    idle_ttl_s: float = -1.0
    # Per engine name, e.g. {"stt.whisper": 600}.
    idle_ttl_overrides: dict[str, float] = Field(default_factory=dict)

    def ttl_for(self, name: str) -> float:
        """The idle TTL of engine ``name``."""
        return self.idle_ttl_overrides.get(name, self.idle_ttl_s)
