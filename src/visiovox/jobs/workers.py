"""Worker registrations: each worker publishes its state with a TTL; readers list the live ones."""

from __future__ import annotations

import enum
import json
import time
from typing import Any

import redis
from pydantic import BaseModel, Field

from visiovox.jobs.keys import RedisKeys, as_text


class WorkerState(enum.StrEnum):
    """A worker's lifecycle state, as in its heartbeat."""

    STARTING = "starting"
    READY = "ready"
    BUSY = "busy"
    DRAINING = "draining"
    DEFUNCT = "defunct"


class WorkerInfo(BaseModel):
    """What a worker says about itself in every heartbeat."""

    name: str
    host: str
    pid: int
    device: str
    device_name: str = ""
    state: WorkerState = WorkerState.STARTING
    queues: list[str] = Field(default_factory=list)
    engines: list[dict[str, Any]] = Field(default_factory=list)
    # The engine pool's memory budget and estimated use, in bytes.
    engine_memory: dict[str, Any] = Field(default_factory=dict)
    current_job: str | None = None
    jobs_done: int = 0
    started_at: float = Field(default_factory=time.time)
    last_seen: float = Field(default_factory=time.time)


class WorkerRegistry:
    """Publishes and lists worker heartbeats."""

    def __init__(self, client: redis.Redis, *, keys: RedisKeys, ttl_s: float) -> None:
        self._redis = client
        self._keys = keys
        self._ttl_ms = int(ttl_s * 1000)

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
        names = sorted(as_text(n) for n in self._redis.smembers(self._keys.workers))
        if not names:
            return []
        values = self._redis.mget([self._keys.worker(n) for n in names])
        live: list[WorkerInfo] = []
        for name, value in zip(names, values, strict=True):
            if value is None:
                self._redis.srem(self._keys.workers, name)
            else:
                live.append(WorkerInfo.model_validate(json.loads(value)))
        return live
