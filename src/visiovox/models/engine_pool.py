"""Per-process cache of loaded engines, keyed by (name, device)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TypeVar

from visiovox.config import Settings
from visiovox.engines.base import Engine
from visiovox.engines.registry import engine_class

log = logging.getLogger(__name__)

EngineT = TypeVar("EngineT", bound=Engine)


@dataclass
class EngineStats:
    """What the worker reports about one engine."""

    name: str
    device: str
    loads: int = 0
    load_time_s: float = 0.0
    uses: int = 0
    last_used: float = 0.0
    loaded: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "device": self.device,
            "loaded": self.loaded,
            "load_count": self.loads,
            "load_time_s": round(self.load_time_s, 4),
            "uses": self.uses,
            "last_used": self.last_used or None,
        }


class EnginePool:
    """Loads each engine once per process and hands the same instance to every job."""

    def __init__(self, *, settings: Settings, device: str) -> None:
        self._settings = settings
        self._device = device
        self._engines: dict[tuple[str, str], Engine] = {}
        self._stats: dict[tuple[str, str], EngineStats] = {}
        self._lock = threading.Lock()

    def get(self, name: str, engine_type: type[EngineT]) -> EngineT:
        """The loaded engine ``name``, loading it on first use."""
        key = (name, self._device)
        with self._lock:
            engine = self._engines.get(key)
            stats = self._stats.setdefault(key, EngineStats(name=name, device=self._device))
            if engine is None:
                engine = self._load(name, stats)
                self._engines[key] = engine
            stats.uses += 1
            stats.last_used = time.time()
        if not isinstance(engine, engine_type):
            raise TypeError(
                f"engine {name} is a {type(engine).__name__}, not {engine_type.__name__}"
            )
        return engine

    def _load(self, name: str, stats: EngineStats) -> Engine:
        started = time.perf_counter()
        engine = engine_class(name)(settings=self._settings, device=self._device)
        engine.load()
        elapsed = time.perf_counter() - started
        stats.loads += 1
        stats.load_time_s = elapsed
        stats.loaded = True
        log.info("loaded engine %s on %s in %.2fs", name, self._device, elapsed)
        return engine

    def unload(self, name: str) -> None:
        key = (name, self._device)
        with self._lock:
            engine = self._engines.pop(key, None)
            if key in self._stats:
                self._stats[key].loaded = False
        if engine is not None:
            engine.close()

    def close(self) -> None:
        for name, _device in list(self._engines):
            self.unload(name)

    def stats(self) -> list[EngineStats]:
        with self._lock:
            return [EngineStats(**vars(s)) for s in self._stats.values()]
