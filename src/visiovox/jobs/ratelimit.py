"""Token buckets in Redis: one Lua step per check, so every gateway process shares them.

A bucket holds up to ``burst`` tokens and gains ``rate_per_s`` a second; a
request takes one or is refused, and a refusal takes nothing. The state is a
hash ``<prefix>:rate:<identity>:<kind>`` of the tokens left and when they
were counted, expiring once the bucket would be full again (a full bucket
and no bucket are the same). ``TAKE_TOKEN_LUA`` is the one implementation:
``RateLimiter`` runs it alone or after reading an API key's record
(``KEY_AND_TAKE``: the key and its request token in one round trip),
``jobs/create_script.py``'s ``CREATE`` inside job creation (a submission's bucket).
Time comes from the caller (``now``): the gateways of one deployment share a
clock closely enough, and tests drive it.
"""

from __future__ import annotations

import enum
import math
import time
from dataclasses import dataclass

import redis.asyncio
from redis.commands.core import AsyncScript

from visiovox.config_limits import KeyLimits
from visiovox.jobs.keys import RedisKeys

# take_token(key, rate, burst, now, dry): {taken (1/0), tokens left, ms until one token,
# ms until full}; dry only looks (CREATE takes after its other checks pass).
TAKE_TOKEN_LUA = """
local function take_token(key, rate, burst, now, dry)
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  if now > at then tokens = math.min(burst, tokens + (now - at) * rate) end
  if at < now then at = now end
  local taken = 0
  if tokens >= 1 then taken = 1 end
  if taken == 1 and not dry then
    tokens = tokens - 1
    local full_ms = math.ceil((burst - tokens) / rate * 1000)
    redis.call('HSET', key, 'tokens', string.format('%.6f', tokens),
               'at', string.format('%.6f', at))
    redis.call('PEXPIRE', key, full_ms + 1000)
  end
  local wait_ms = 0
  if tokens < 1 then wait_ms = math.ceil((1 - tokens) / rate * 1000) end
  return {taken, math.floor(tokens), wait_ms, math.ceil((burst - tokens) / rate * 1000)}
end
"""

TAKE = (
    TAKE_TOKEN_LUA
    + """
return take_token(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), false)
"""
)

# KEYS: the API key's hash, its request bucket; ARGV: the default rate, burst and
# unlimited flag, now. Answers the stored fields (empty: no such key) and, unless
# the key is unknown or unlimited, the bucket's reply and its burst.
KEY_AND_TAKE = (
    TAKE_TOKEN_LUA
    + """
local fields = redis.call('HGETALL', KEYS[1])
local record = {}
for i = 1, #fields, 2 do record[fields[i]] = fields[i + 1] end
if record['owner'] == nil or (record['unlimited'] or ARGV[3]) == 'true' then
  return {fields}
end
local burst = tonumber(record['burst'] or ARGV[2])
local reply = take_token(KEYS[2], tonumber(record['rate_per_s'] or ARGV[1]), burst,
                         tonumber(ARGV[4]), false)
return {fields, reply, burst}
"""
)


class BucketKind(enum.StrEnum):
    """What a bucket meters: every request, or job submissions."""

    REQUESTS = "req"
    SUBMITS = "sub"


@dataclass(frozen=True)
class Bucket:
    """A token bucket's shape: ``rate_per_s`` refill, ``burst`` capacity."""

    rate_per_s: float
    burst: int

    @classmethod
    def per_minute(cls, count: float) -> Bucket:
        """``count`` a minute, a minute's worth at once."""
        return cls(rate_per_s=count / 60, burst=max(1, int(count)))


@dataclass(frozen=True)
class Verdict:
    """One check of a bucket: taken or not, and what the ``RateLimit-*`` headers say."""

    allowed: bool
    limit: int
    remaining: int
    # Seconds until a token is there again (Retry-After), and until the bucket is full.
    retry_after_s: int
    reset_s: int

    @classmethod
    def from_reply(cls, reply: list[int], *, limit: int) -> Verdict:
        taken, remaining, wait_ms, full_ms = (int(value) for value in reply)
        return cls(
            allowed=bool(taken),
            limit=limit,
            remaining=max(0, remaining),
            retry_after_s=math.ceil(wait_ms / 1000),
            reset_s=math.ceil(full_ms / 1000),
        )


class RateLimited(Exception):
    """A bucket had no token left; nothing was done."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(f"rate limit reached; retry in {verdict.retry_after_s} s")
        self.verdict = verdict


class RateLimiter:
    """Takes tokens from the deployment's buckets on the event loop's Redis client."""

    def __init__(self, client: redis.asyncio.Redis, *, keys: RedisKeys) -> None:
        self._keys = keys
        self._take: AsyncScript = client.register_script(TAKE)
        self._key_and_take: AsyncScript = client.register_script(KEY_AND_TAKE)

    async def take(
        self, identity: str, bucket: Bucket, *, kind: str = BucketKind.REQUESTS
    ) -> Verdict:
        """Take one token of ``identity``'s ``kind`` bucket, or say how long to wait."""
        reply = await self._take(
            keys=[self._keys.rate(identity, kind)],
            args=[repr(bucket.rate_per_s), bucket.burst, repr(time.time())],
        )
        return Verdict.from_reply(reply, limit=bucket.burst)

    async def take_for_key(
        self, digest: str, *, defaults: KeyLimits
    ) -> tuple[dict[bytes, bytes], Verdict | None]:
        """An API key's stored fields (empty: unknown) and, unless it is unknown or
        unlimited, one token of its request bucket: one round trip for both."""
        reply = await self._key_and_take(
            keys=[
                self._keys.api_key(digest),
                self._keys.rate(f"key:{digest}", BucketKind.REQUESTS),
            ],
            args=[
                repr(defaults.rate_per_s),
                defaults.burst,
                str(defaults.unlimited).lower(),
                repr(time.time()),
            ],
        )
        flat = reply[0]
        fields = dict(zip(flat[::2], flat[1::2], strict=True))
        if len(reply) < 3:
            return fields, None
        return fields, Verdict.from_reply(reply[1], limit=int(reply[2]))
