"""Per-owner quotas: queued, running and live top-level jobs, counted by the transitions' Lua.

A job counts when it is created with a quota class (``Job.quota``): ``jobs``
for batch jobs, ``live`` for live sessions. ``api/submission.py`` sets it on
every job it creates, all of them top-level; a job created without one (a
job's own child jobs, such as a video's segments later, or a job from before
quotas) never counts. The owner's sets (``<prefix>:quota:<owner>:queued``,
``:running``, ``:held``, ``:live``) are sorted sets of job ids scored by
creation time, so a repeated step changes nothing and no count can drift
below zero: ``CREATE`` adds (checking the caps in the same step), ``CLAIM``
moves queued → running, ``REQUEUE`` running → queued, and every step that
ends a job (``FINISH``, ``CANCEL``, a claim or requeue that fails or cancels
it) removes it from all of them. The janitor drops entries of jobs past
retention, as it does for the owner index.

``max_running`` is checked at claim: a job whose owner already runs its cap
is *held* (it stays queued, its message is dropped) until one of the owner's
running jobs ends; the worker that finished it, or the janitor that
recovered it, then dispatches the oldest held jobs again
(``release_held``). A held job whose release was lost (a process died in
between) is a queued job without a message: the janitor's search for lost
messages dispatches it again.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from visiovox.jobs.keys import RedisKeys, as_text
from visiovox.jobs.model import QuotaClass

# Each helper takes the job's hash and the quota prefix (``<prefix>:quota:``); a job
# without a quota class is skipped.
QUOTA_LUA = """
local function quota_of(job_key, prefix)
  local mark = redis.call('HMGET', job_key, 'quota', 'owner')
  if not mark[1] or mark[1] == 'null' or not mark[2] then return nil, nil end
  return prefix .. cjson.decode(mark[2]) .. ':', cjson.decode(mark[1])
end
local function quota_done(job_key, prefix, job_id)
  local base = quota_of(job_key, prefix)
  if not base then return end
  for _, set in ipairs({'queued', 'running', 'held', 'live'}) do
    redis.call('ZREM', base .. set, job_id)
  end
end
local function quota_move(job_key, prefix, job_id, from, to)
  local base, kind = quota_of(job_key, prefix)
  if kind ~= 'jobs' then return end
  redis.call('ZREM', base .. from, job_id)
  redis.call('ZREM', base .. 'held', job_id)
  local created = redis.call('HGET', job_key, 'created_at') or '0'
  redis.call('ZADD', base .. to, created, job_id)
end
local function quota_holds(job_key, prefix, job_id)
  local base, kind = quota_of(job_key, prefix)
  if kind ~= 'jobs' then return false end
  local cap = tonumber(redis.call('HGET', job_key, 'max_running') or '0') or 0
  if cap <= 0 or redis.call('ZCARD', base .. 'running') < cap then return false end
  redis.call('ZADD', base .. 'held', redis.call('HGET', job_key, 'created_at') or '0', job_id)
  return true
end
"""

# KEYS: held, running. ARGV: the job key prefix, most ids to look at. Releases the
# oldest held jobs still queued while the owner is under their cap.
RELEASE_HELD = """
local released = {}
local running = redis.call('ZCARD', KEYS[2])
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)) do
  local fields = redis.call('HMGET', ARGV[1] .. id, 'status', 'max_running')
  if fields[1] == '"queued"' then
    local cap = tonumber(fields[2] or '0') or 0
    if cap > 0 and running + #released >= cap then break end
    released[#released + 1] = id
  end
  redis.call('ZREM', KEYS[1], id)
end
return released
"""

# Held jobs looked at by one release.
RELEASE_BATCH = 100
SETS = ("queued", "running", "held", "live")


@dataclass(frozen=True)
class Admission:
    """What job creation checks for a counted job: its class and its owner's caps (0: none)."""

    quota: QuotaClass
    max_queued: int = 0
    max_live: int = 0


class QuotaExceeded(Exception):
    """The owner already has its cap of queued jobs or live sessions; nothing was created."""

    def __init__(self, which: str, *, count: int, cap: int) -> None:
        what = "live sessions" if which == "live" else f"{which} jobs"
        super().__init__(f"the quota of {cap} {what} is reached ({count} now)")
        self.which = which
        self.count = count
        self.cap = cap


class Quotas:
    """Reads and releases the owners' quota sets on the threads' client."""

    def __init__(self, client: redis.Redis, *, keys: RedisKeys) -> None:
        self._redis = client
        self._keys = keys
        self._release = client.register_script(RELEASE_HELD)

    def counts(self, owner: str) -> dict[str, int]:
        """The owner's jobs in each set right now."""
        base = self._keys.quota(owner)
        pipe = self._redis.pipeline(transaction=False)
        for name in SETS:
            pipe.zcard(base + name)
        return dict(zip(SETS, (int(n) for n in pipe.execute()), strict=True))

    def release_held(self, owner: str) -> list[str]:
        """The owner's held jobs that may run now, oldest first (their caller dispatches them)."""
        base = self._keys.quota(owner)
        ids = self._release(
            keys=[base + "held", base + "running"], args=[self._keys.job(""), RELEASE_BATCH]
        )
        return [as_text(job_id) for job_id in ids]

    def prune(self, owner: str, older_than: float) -> int:
        """Drop entries of the owner's jobs created before ``older_than`` (they have expired)."""
        base = self._keys.quota(owner)
        pipe = self._redis.pipeline(transaction=False)
        for name in SETS:
            pipe.zremrangebyscore(base + name, "-inf", older_than)
        return sum(int(n) for n in pipe.execute())
