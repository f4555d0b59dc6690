"""The webhook outbox's delivery side: the lease, the due deliveries, attempts, the log.

``jobs/webhook_outbox.py`` fills the outbox; this reads and updates it on the
event loop's client, each step one Lua script. One process delivers at a time:
it holds ``webhook:lease`` (renewed while it lives, taken over by another
gateway once it lapses). A delivery taken for sending is pushed ahead in the
``due`` set by the send's timeout and a margin, so a holder that dies
mid-send leaves it to be sent again (same ``webhook-id``) by the next holder,
never lost and never sent twice by a live one.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

import redis.asyncio
from redis.commands.core import AsyncScript

from visiovox.jobs.keys import RedisKeys, as_text
from visiovox.jobs.scripts import COMMON_LUA

# Attempt durations (ms) counted in ``/metrics``' histogram.
DURATION_BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000)


class DeliveryStatus(enum.StrEnum):
    """Where a delivery is: waiting for its next try, accepted, or given up."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Outcome(enum.StrEnum):
    """What an attempt made of its delivery."""

    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    """One delivery as stored, with its attempts (``{"at", "status_code", "error", "ms"}``)."""

    id: str
    job_id: str
    event: str
    status: DeliveryStatus
    attempts: int
    created_at: float
    next_at: float | None
    log: list[dict[str, Any]]


_HOLD_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

_RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: lease, due. ARGV: holder, now, limit, in-flight deadline.
_TAKE_DUE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {} end
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[2], ARGV[4], id) end
return ids
"""

# KEYS: delivery, its attempts, due, stats. ARGV: id, outcome, attempt JSON, next_at,
# ttl, status code, duration ms, the histogram's bounds (ms)...
_RECORD = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 0
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[5])
if ARGV[2] == 'retry' then
  redis.call('HSET', KEYS[1], 'status', 'pending', 'next_at', ARGV[4])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
else
  redis.call('HSET', KEYS[1], 'status', ARGV[2], 'next_at', '')
  redis.call('ZREM', KEYS[3], ARGV[1])
end
redis.call('HSET', KEYS[1], 'last_status', ARGV[6])
redis.call('HINCRBY', KEYS[4], 'result:' .. ARGV[2], 1)
local ms = tonumber(ARGV[7])
redis.call('HINCRBY', KEYS[4], 'duration_count', 1)
redis.call('HINCRBYFLOAT', KEYS[4], 'duration_sum_ms', ms)
for i = 8, #ARGV do
  if ms <= tonumber(ARGV[i]) then redis.call('HINCRBY', KEYS[4], 'duration_le:' .. ARGV[i], 1) end
end
return attempts
"""

# KEYS: job. ARGV: webhook prefix, job id, now, notice channel. A new ``completed`` delivery of a
# finished job that asked for it; its log lives as long as the job.
_REDELIVER = (
    COMMON_LUA
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
if not is_terminal(status) then return 'running' end
local wanted = redis.call('HGET', KEYS[1], 'webhook_events')
if not wanted or not string.find(wanted, '"completed"', 1, true) then return 'none' end
local ttl = math.max(60, redis.call('TTL', KEYS[1]))
webhook_enqueue(KEYS[1], ARGV[1], ARGV[4], ARGV[2], 'completed', ARGV[3], ttl, 0)
return redis.call('LINDEX', ARGV[1] .. 'job:' .. ARGV[2], -1)
"""
)


class Outbox:
    """The outbox on one asyncio client: lease, due deliveries, attempts and the job's log."""

    def __init__(self, client: redis.asyncio.Redis, *, keys: RedisKeys, ttl_s: int) -> None:
        self._redis = client
        self._keys = keys
        self._ttl_s = ttl_s
        self._hold: AsyncScript = client.register_script(_HOLD_LEASE)
        self._release: AsyncScript = client.register_script(_RELEASE_LEASE)
        self._take: AsyncScript = client.register_script(_TAKE_DUE)
        self._record: AsyncScript = client.register_script(_RECORD)
        self._redeliver: AsyncScript = client.register_script(_REDELIVER)

    async def hold_lease(self, holder: str, *, lease_s: float) -> bool:
        """Take the lease, or renew it when ``holder`` has it; whether ``holder`` holds it."""
        args: list[str | int] = [holder, int(lease_s * 1000)]
        return bool(await self._hold(keys=[self._keys.webhook_lease], args=args))

    async def release_lease(self, holder: str) -> None:
        await self._release(keys=[self._keys.webhook_lease], args=[holder])

    async def take_due(self, holder: str, *, now: float, limit: int, until: float) -> list[str]:
        """Up to ``limit`` due delivery ids, each kept from the next take until ``until``."""
        keys = [self._keys.webhook_lease, self._keys.webhook_due]
        ids = await self._take(keys=keys, args=[holder, repr(now), limit, repr(until)])
        return [as_text(i) for i in ids]

    async def next_due_at(self) -> float | None:
        """When the earliest pending delivery is due (None: the outbox is empty)."""
        first = await self._redis.zrange(self._keys.webhook_due, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def queue_size(self) -> int:
        return int(await self._redis.zcard(self._keys.webhook_due))

    async def load(self, delivery_id: str) -> Delivery | None:
        """One delivery and its attempts (None once it expired)."""
        key = self._keys.webhook_delivery(delivery_id)
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(key)
        pipe.lrange(f"{key}:attempts", 0, -1)
        raw, attempts = await pipe.execute()
        return _decode(delivery_id, raw, attempts) if raw else None

    async def record(
        self,
        delivery_id: str,
        *,
        outcome: Outcome,
        attempt: dict[str, Any],
        next_at: float | None,
    ) -> None:
        """Count one attempt: the delivery delivered, failed, or due again at ``next_at``."""
        key = self._keys.webhook_delivery(delivery_id)
        status = attempt.get("status_code")
        await self._record(
            keys=[key, f"{key}:attempts", self._keys.webhook_due, self._keys.webhook_stats],
            args=[
                delivery_id,
                outcome.value,
                json.dumps(attempt),
                repr(next_at or 0.0),
                self._ttl_s,
                "" if status is None else status,
                attempt["ms"],
                *DURATION_BUCKETS_MS,
            ],
        )

    async def deliveries(self, job_id: str) -> list[Delivery]:
        """The job's deliveries, oldest first."""
        ids = [as_text(i) for i in await self._redis.lrange(self._keys.webhook_log(job_id), 0, -1)]
        found = [await self.load(delivery_id) for delivery_id in ids]
        return [delivery for delivery in found if delivery is not None]

    async def redeliver(self, job_id: str, *, now: float) -> str:
        """A new ``completed`` delivery of a finished job: its id, or ``missing``,
        ``running`` (not finished) or ``none`` (it asked for no ``completed`` webhook)."""
        args = [self._keys.webhook_prefix, job_id, repr(now), self._keys.notices]
        return as_text(await self._redeliver(keys=[self._keys.job(job_id)], args=args))

    async def stats(self) -> dict[str, float]:
        """Counters and histogram sums for ``/metrics``."""
        raw = await self._redis.hgetall(self._keys.webhook_stats)
        return {as_text(name): float(as_text(value)) for name, value in raw.items()}


def _decode(delivery_id: str, raw: dict[Any, Any], attempts: list[Any]) -> Delivery:
    fields = {as_text(k): as_text(v) for k, v in raw.items()}
    next_at = fields.get("next_at") or ""
    return Delivery(
        id=delivery_id,
        job_id=fields.get("job", ""),
        event=fields.get("event", ""),
        status=DeliveryStatus(fields.get("status", DeliveryStatus.PENDING)),
        attempts=int(fields.get("attempts", "0")),
        created_at=float(fields.get("created_at", "0")),
        next_at=float(next_at) if next_at else None,
        log=[json.loads(as_text(item)) for item in attempts],
    )
