"""Worker registrations: each worker publishes its state with a TTL; readers list the live ones.

A registration is one key per worker (``<prefix>:worker:<name>``, expiring after
three missed heartbeats) plus the worker's name in one set. Readers take every
live registration in one round trip (a script: the set, then the keys); the
gateway does that for each submission, so the scheduler sees states as fresh
as the workers' last change. Names whose key expired stay in the set until the
janitor hands their private queues back (``Janitor.sweep``).
"""

from __future__ import annotations

import enum
import time
from functools import cached_property
from typing import Any

import redis
import redis.asyncio
from pydantic import BaseModel, Field
from redis.commands.core import AsyncScript

from visiovox.jobs.keys import RedisKeys, as_text

# A worker counts as live for three missed heartbeats.
WORKER_TTL_HEARTBEATS = 3


class WorkerState(enum.StrEnum):
    """A worker's lifecycle state, as in its heartbeat."""

    STARTING = "starting"
    READY = "ready"
    BUSY = "busy"
    DRAINING = "draining"
    DEFUNCT = "defunct"

    @property
    def takes_jobs(self) -> bool:
        """Whether the worker will take jobs from its queues (now or once started)."""
        return self in (WorkerState.STARTING, WorkerState.READY, WorkerState.BUSY)


# Upper bounds (ms) of the live latency histogram's buckets; +Inf follows.
LIVE_LATENCY_BUCKETS_MS = (10.0, 20.0, 35.0, 50.0, 75.0, 100.0, 150.0, 250.0, 500.0, 1000.0)


class LiveFigures(BaseModel):
    """A hosted live session's running totals, as its last ``stats`` tick saw them."""

    frames_in: int = 0
    frames_out: int = 0
    dropped: int = 0
    latency_ms_p50: float = 0.0
    latency_ms_p95: float = 0.0
    # Answers within each LIVE_LATENCY_BUCKETS_MS bound, cumulative, then all of them (+Inf).
    latency_buckets: list[int] = Field(default_factory=list)
    latency_sum_ms: float = 0.0


class WorkerInfo(BaseModel):
    """What a worker says about itself in every heartbeat."""

    name: str
    host: str
    pid: int
    device: str
    device_name: str = ""
    memory_total_bytes: int | None = None
    memory_free_bytes: int | None = None
    state: WorkerState = WorkerState.STARTING
    queues: list[str] = Field(default_factory=list)
    engines: list[dict[str, Any]] = Field(default_factory=list)
    # The engine pool's memory budget and estimated use, in bytes.
    engine_memory: dict[str, Any] = Field(default_factory=dict)
    current_job: str | None = None
    # The pipeline of ``current_job`` (a live session's job is ``assistant-live``).
    current_pipeline: str | None = None
    # The live session ``current_job`` hosts, once it has reported (a live pipeline's).
    live_session: LiveFigures | None = None
    jobs_done: int = 0
    metrics_port: int | None = None
    started_at: float = Field(default_factory=time.time)
    last_seen: float = Field(default_factory=time.time)

    # Cached: the registry reuses parsed heartbeats, and the scheduler asks per placement.
    @cached_property
    def loaded_engines(self) -> frozenset[str]:
        """Loaded engine names, and their capability (``llm``) for pipelines that name a role."""
        names = {str(e["name"]) for e in self.engines if e.get("loaded")}
        return frozenset(names | {name.partition(".")[0] for name in names})

    @cached_property
    def device_class(self) -> str:
        return "cpu" if self.device == "cpu" else "gpu"


# KEYS: the names set. ARGV: the worker key prefix. Returns [name, value, ...] of live ones.
_SNAPSHOT = """
local out = {}
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local value = redis.call('GET', ARGV[1] .. name)
  if value then
    out[#out + 1] = name
    out[#out + 1] = value
  end
end
return out
"""


class WorkerRegistry:
    """Publishes and lists worker heartbeats."""

    def __init__(self, client: redis.Redis, *, keys: RedisKeys, ttl_s: float) -> None:
        self._redis = client
        self._keys = keys
        self._ttl_ms = int(ttl_s * 1000)
        self._snapshot = client.register_script(_SNAPSHOT)
        self._async_snapshots: dict[int, AsyncScript] = {}
        self._recent: tuple[float, list[WorkerInfo]] | None = None
        # Parsed registrations by their raw JSON: most reads find them unchanged.
        self._parsed: dict[bytes, WorkerInfo] = {}

    def publish(self, info: WorkerInfo) -> None:
        info.last_seen = time.time()
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(self._keys.worker(info.name), info.model_dump_json(), px=self._ttl_ms)
        pipe.sadd(self._keys.workers, info.name)
        pipe.execute()

    def remove(self, name: str) -> None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.delete(self._keys.worker(name))
        pipe.srem(self._keys.workers, name)
        pipe.execute()

    def live(self) -> list[WorkerInfo]:
        """Workers whose heartbeat has not expired, by name."""
        reply = self._snapshot(keys=[self._keys.workers], args=[self._keys.worker("")])
        return self._decode(reply)

    async def live_async(
        self, client: redis.asyncio.Redis, *, max_age_s: float = 0.0
    ) -> list[WorkerInfo]:
        """``live`` on an asyncio client; a read younger than ``max_age_s`` is reused."""
        now = time.monotonic()
        if self._recent is not None and now - self._recent[0] < max_age_s:
            return self._recent[1]
        script = self._async_snapshots.get(id(client))
        if script is None:
            script = self._async_snapshots[id(client)] = client.register_script(_SNAPSHOT)
        reply = await script(keys=[self._keys.workers], args=[self._keys.worker("")])
        workers = self._decode(reply)
        self._recent = (now, workers)
        return workers

    def expired(self) -> list[str]:
        """Names still in the set whose registration expired (their worker is gone)."""
        names = sorted(as_text(n) for n in self._redis.smembers(self._keys.workers))
        if not names:
            return []
        values = self._redis.mget([self._keys.worker(n) for n in names])
        return [name for name, value in zip(names, values, strict=True) if value is None]

    def forget(self, name: str) -> None:
        """Drop an expired name from the set (after its private queue was handed back)."""
        self._redis.srem(self._keys.workers, name)

    def _decode(self, reply: list[Any]) -> list[WorkerInfo]:
        if len(self._parsed) > 1024:
            self._parsed.clear()
        infos: list[WorkerInfo] = []
        for raw in reply[1::2]:
            value = raw if isinstance(raw, bytes) else str(raw).encode()
            info = self._parsed.get(value)
            if info is None:
                info = self._parsed[value] = WorkerInfo.model_validate_json(value)
            infos.append(info)
        return sorted(infos, key=lambda info: info.name)
