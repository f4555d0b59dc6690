"""Per-process cache of loaded engines, keyed by (name, device), with a memory budget and idle TTLs.

``get`` loads an engine on first use: it first makes the engine's models ready
(fetching missing ones, reporting progress to the caller), then, if the
engines' estimated sizes would pass ``engines.memory_budget_mb``, unloads the
least recently used idle engines, then loads. Every ``get`` is paired with a
``release``; an engine nobody holds is unloaded right away when its idle TTL
is 0, or by ``sweep`` (the heartbeat calls it) once idle for longer than its TTL.
Loading runs outside the pool lock, so ``stats`` never waits for a download.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from visiovox.config import Settings
from visiovox.engines.base import Engine
from visiovox.engines.registry import engine_class, resolve_engine
from visiovox.models.cache import prepare_model
from visiovox.models.transfer import ProgressCallback

log = logging.getLogger(__name__)

EngineT = TypeVar("EngineT", bound=Engine)
MIB = 1024 * 1024


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
    in_use: int = 0
    estimated_bytes: int = 0
    idle_ttl_s: float = -1.0
    unloads: int = 0
    last_unload_reason: str | None = None
    # Monotonic time of the last release, for TTLs and LRU order (not reported).
    idle_since: float = field(default=0.0, repr=False)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "device": self.device,
            "loaded": self.loaded,
            "load_count": self.loads,
            "load_time_s": round(self.load_time_s, 4),
            "uses": self.uses,
            "in_use": self.in_use,
            "last_used": self.last_used or None,
            "estimated_bytes": self.estimated_bytes,
            "idle_ttl_s": self.idle_ttl_s,
            "unload_count": self.unloads,
            "last_unload_reason": self.last_unload_reason,
        }


class EnginePool:
    """Loads each engine once per process and hands the same instance to every job."""

    def __init__(
        self,
        *,
        settings: Settings,
        device: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._device = device
        self._clock = clock
        self._engines: dict[tuple[str, str], Engine] = {}
        self._stats: dict[tuple[str, str], EngineStats] = {}
        self._loading: dict[tuple[str, str], threading.Event] = {}
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        """The settings every engine of this pool is made with."""
        return self._settings

    @property
    def budget_bytes(self) -> int:
        return self._settings.engines.memory_budget_mb * MIB

    def get(
        self, name: str, engine_type: type[EngineT], *, progress: ProgressCallback | None = None
    ) -> EngineT:
        """The loaded engine ``name``, loading it on first use; pair it with ``release(name)``.

        ``name`` may be a role (``llm``): the engine the settings choose for it.
        """
        name = resolve_engine(name, self._settings)
        key = (name, self._device)
        while True:
            with self._lock:
                stats = self._stats.setdefault(key, self._new_stats(name))
                engine = self._engines.get(key)
                if engine is not None:
                    self._acquire(stats)
                    break
                loading = self._loading.get(key)
                if loading is None:
                    loading = self._loading[key] = threading.Event()
                    mine = True
                else:
                    mine = False
            if not mine:
                loading.wait()
                continue  # loaded by the other caller, or failed there: look again
            try:
                engine = self._load(name, stats, progress)
            finally:
                with self._lock:
                    del self._loading[key]
                loading.set()
            with self._lock:
                self._engines[key] = engine
                self._acquire(stats)
            break
        engine.download_progress = progress
        if not isinstance(engine, engine_type):
            self.release(name)
            raise TypeError(
                f"engine {name} is a {type(engine).__name__}, not {engine_type.__name__}"
            )
        return engine

    def release(self, name: str) -> None:
        """One holder of ``name`` is done with it; a 0 s TTL unloads it now."""
        key = (resolve_engine(name, self._settings), self._device)
        with self._lock:
            stats = self._stats.get(key)
            if stats is None or stats.in_use == 0:
                return
            stats.in_use -= 1
            stats.idle_since = self._clock()
            unload_now = stats.in_use == 0 and stats.idle_ttl_s == 0
        if unload_now:
            self._unload_if_idle(key, reason="idle TTL 0: unloaded after use")

    def sweep(self) -> list[str]:
        """Unload the idle engines whose TTL ran out; their names."""
        now = self._clock()
        with self._lock:
            expired = [
                key
                for key, stats in self._stats.items()
                if key in self._engines
                and stats.in_use == 0
                and stats.idle_ttl_s >= 0
                and now - stats.idle_since >= stats.idle_ttl_s
            ]
        done = []
        for key in expired:
            ttl = self._stats[key].idle_ttl_s
            if self._unload_if_idle(key, reason=f"idle for over {ttl:g}s"):
                done.append(key[0])
        return done

    def unload(self, name: str) -> None:
        """Unload ``name`` now, held or not (shutdown, tests)."""
        self._unload(
            (resolve_engine(name, self._settings), self._device), reason="unloaded on request"
        )

    def close(self) -> None:
        for name, _device in list(self._engines):
            self.unload(name)

    def stats(self) -> list[EngineStats]:
        with self._lock:
            return [EngineStats(**vars(s)) for s in self._stats.values()]

    def memory(self) -> dict[str, Any]:
        """The budget and the estimated bytes of loaded engines (``/v1/workers``)."""
        with self._lock:
            loaded = sum(self._stats[key].estimated_bytes for key in self._engines)
        return {"budget_bytes": self.budget_bytes, "loaded_bytes": loaded}

    def _new_stats(self, name: str) -> EngineStats:
        ttl = self._settings.engines.ttl_for(name)
        return EngineStats(name=name, device=self._device, idle_ttl_s=ttl)

    def _acquire(self, stats: EngineStats) -> None:
        stats.in_use += 1
        stats.uses += 1
        stats.last_used = time.time()

    def _load(self, name: str, stats: EngineStats, progress: ProgressCallback | None) -> Engine:
        started = time.perf_counter()
        engine = engine_class(name)(settings=self._settings, device=self._device)
        for model_id in engine.required_models():
            prepare_model(self._settings, model_id, progress=progress)
        estimated = engine.estimated_bytes()
        self._make_room(estimated, loading=name)
        engine.load()
        elapsed = time.perf_counter() - started
        with self._lock:
            stats.loads += 1
            stats.load_time_s = elapsed
            stats.loaded = True
            stats.estimated_bytes = estimated
            stats.idle_since = self._clock()
        log.info("loaded engine %s on %s in %.2fs", name, self._device, elapsed)
        return engine

    def _make_room(self, needed: int, *, loading: str) -> None:
        """Unload least recently used idle engines until ``needed`` more bytes fit the budget."""
        budget = self.budget_bytes
        if budget <= 0:
            return
        while True:
            with self._lock:
                loaded = sum(self._stats[key].estimated_bytes for key in self._engines)
                if loaded + needed <= budget:
                    return
                idle = [key for key in self._engines if self._stats[key].in_use == 0]
                victim = min(idle, key=lambda k: self._stats[k].idle_since) if idle else None
            if victim is None:
                log.warning(
                    "engine %s needs ~%d MiB; %d MiB of %d MiB are loaded and all in use",
                    loading,
                    needed // MIB,
                    loaded // MIB,
                    budget // MIB,
                )
                return
            self._unload_if_idle(victim, reason=f"memory budget: made room for {loading}")

    def _unload_if_idle(self, key: tuple[str, str], *, reason: str) -> bool:
        with self._lock:
            stats = self._stats.get(key)
            if stats is None or stats.in_use > 0:
                return False
        return self._unload(key, reason=reason)

    def _unload(self, key: tuple[str, str], *, reason: str) -> bool:
        with self._lock:
            engine = self._engines.pop(key, None)
            stats = self._stats.get(key)
            if engine is None or stats is None:
                return False
            stats.loaded = False
            stats.unloads += 1
            stats.last_unload_reason = reason
        engine.close()
        log.info("unloaded engine %s on %s: %s", key[0], key[1], reason)
        return True
