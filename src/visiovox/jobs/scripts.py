"""The Lua scripts behind every job transition, each with the one function that calls it.

One script per transition: the state change, its event, the job's entry in
its pipeline's queued set (for the queue-depth cap), its statistics and its
webhook delivery (``jobs/webhook_outbox.py``: ``started`` at the claim,
``completed`` at every terminal transition) land together or not at all.
Beside each script sits its ``*_call`` function: the only place that knows
which ``KEYS`` and ``ARGV`` the script reads, and in which order
(``JobStore`` runs what they build). The queued set's name is derived inside
the scripts from the job's pipeline (``<prefix>:queued:<pipeline>``) where
the caller only knows the job id (a worker's claim, the janitor's requeue):
that is fine on one Redis, which is what VisioVox runs on; a Redis Cluster
would need the keys passed in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from visiovox.jobs.events import APPEND_EVENT_LUA
from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.model import JobError
from visiovox.jobs.quotas import QUOTA_LUA
from visiovox.jobs.records import encode_fields
from visiovox.jobs.segment_lua import SETTLE_PARENT_LUA
from visiovox.jobs.stats import STATS_LUA
from visiovox.jobs.webhook_outbox import WEBHOOK_ENQUEUE_LUA

Arg = str | int | float


@dataclass(frozen=True)
class ScriptCall:
    """The ``KEYS`` and ``ARGV`` of one run of a script, in the order its Lua reads them."""

    keys: list[str]
    args: list[Arg]


@dataclass(frozen=True)
class EventSink:
    """Where a transition's event goes: the notice channel, the stream's cap and lifetime.

    ``ttl_s`` is the job's retention: the record and its stream expire together.
    """

    channel: str
    maxlen: int
    ttl_s: int

    def args(self, job_id: str) -> list[Arg]:
        """``channel, maxlen, ttl, job_id``: the ``append_event`` arguments of every script."""
        return [self.channel, self.maxlen, self.ttl_s, job_id]


def _transition_keys(keys: RedisKeys, job_id: str) -> list[str]:
    """``job, lease, running, stream, stats``: what claim, finish and requeue change."""
    return [keys.job(job_id), keys.lease(job_id), keys.running, keys.events(job_id), keys.stats]


def _worker_lost_error(max_attempts: int) -> str:
    message = f"the job's worker was lost {max_attempts} times; giving up"
    return JobError(code="worker_lost", message=message).model_dump_json()


def _live_lost_error() -> str:
    message = "the worker hosting this live session was lost; live sessions are not re-dispatched"
    return JobError(code="worker_lost", message=message).model_dump_json()


# A live session's job (its quota class is ``live``, ``jobs/quotas.py``) has one
# attempt: its state (the streams read, the engines warmed) died with its worker.
_TERMINAL_LUA = """
local function is_terminal(status)
  return status == '"succeeded"' or status == '"failed"' or status == '"canceled"'
end
local function is_live_session(job_key)
  return redis.call('HGET', job_key, 'quota') == '"live"'
end
"""

COMMON_LUA = (
    APPEND_EVENT_LUA
    + STATS_LUA
    + _TERMINAL_LUA
    + QUOTA_LUA
    + WEBHOOK_ENQUEUE_LUA
    + SETTLE_PARENT_LUA
)

# A claim by the lease's holder repeats its own claim, whose reply Redis did not send
# (it stopped right after running the script; the worker retried): the same attempt.
CLAIM = (
    COMMON_LUA
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', 0} end
local pipeline = job_pipeline(KEYS[1])
local queued = ARGV[10] .. pipeline
if is_terminal(status) then
  redis.call('ZREM', queued, ARGV[8])
  quota_done(KEYS[1], ARGV[11], ARGV[8])
  return {'terminal', 0}
end
local holder = redis.call('GET', KEYS[2])
if holder then
  if holder == ARGV[1] and status == '"running"' then
    return {'claimed', tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') or 0}
  end
  return {'leased', 0}
end
local now = ARGV[4]
local cancel = redis.call('HGET', KEYS[1], 'cancel_requested') == 'true'
if not cancel and status == '"queued"' and quota_holds(KEYS[1], ARGV[11], ARGV[8]) then
  return {'held', 0}
end
redis.call('ZREM', queued, ARGV[8])
if cancel then
  redis.call('HSET', KEYS[1], 'status', '"canceled"', 'finished_at', now)
  redis.call('ZREM', KEYS[3], ARGV[8])
  quota_done(KEYS[1], ARGV[11], ARGV[8])
  count_job(KEYS[5], pipeline, 'canceled')
  append_event(KEYS[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], 'canceled', '{}', now)
  webhook_enqueue(KEYS[1], ARGV[13], ARGV[5], ARGV[8], 'completed', now, ARGV[7], 0)
  settle_parent(KEYS[1], ARGV[8], now, {ARGV[5], ARGV[6], ARGV[7]}, ARGV[11], ARGV[13], KEYS[5])
  return {'canceled', 0}
end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') or 0
local max_attempts, lost = tonumber(ARGV[3]), ARGV[9]
if is_live_session(KEYS[1]) then max_attempts, lost = 1, ARGV[12] end
if attempts >= max_attempts then
  redis.call('HSET', KEYS[1], 'status', '"failed"', 'finished_at', now, 'error', lost)
  redis.call('ZREM', KEYS[3], ARGV[8])
  quota_done(KEYS[1], ARGV[11], ARGV[8])
  count_job(KEYS[5], pipeline, 'failed')
  append_event(KEYS[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], 'failed', lost, now)
  webhook_enqueue(KEYS[1], ARGV[13], ARGV[5], ARGV[8], 'completed', now, ARGV[7], 0)
  settle_parent(KEYS[1], ARGV[8], now, {ARGV[5], ARGV[6], ARGV[7]}, ARGV[11], ARGV[13], KEYS[5])
  return {'exhausted', attempts}
end
quota_move(KEYS[1], ARGV[11], ARGV[8], 'queued', 'running')
attempts = attempts + 1
redis.call('HSET', KEYS[1], 'status', '"running"', 'attempts', tostring(attempts),
           'worker', cjson.encode(ARGV[1]), 'started_at', now)
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[3], now, ARGV[8])
count_job(KEYS[5], pipeline, 'running')
if attempts == 1 then
  local created = tonumber(redis.call('HGET', KEYS[1], 'created_at'))
  if created then observe(KEYS[5], 'dispatch', pipeline, math.max(0, now - created)) end
end
append_event(KEYS[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], 'started',
             cjson.encode({worker = ARGV[1], attempt = attempts}), now)
if redis.call('HGET', KEYS[1], 'phase') ~= '"stitch"' then  -- a caller hears `started` once
  webhook_enqueue(KEYS[1], ARGV[13], ARGV[5], ARGV[8], 'started', now, ARGV[7], 0)
end
return {'claimed', attempts}
"""
)


def claim_call(
    *,
    keys: RedisKeys,
    job_id: str,
    worker: str,
    lease_ms: int,
    max_attempts: int,
    sink: EventSink,
    now: float,
) -> ScriptCall:
    """Start the job on ``worker`` under a lease. Replies ``[outcome, attempt]``."""
    return ScriptCall(
        keys=_transition_keys(keys, job_id),
        args=[
            worker,
            lease_ms,
            max_attempts,
            repr(now),
            *sink.args(job_id),
            _worker_lost_error(max_attempts),
            keys.queued_prefix,
            keys.quota_prefix,
            _live_lost_error(),
            keys.webhook_prefix,
        ],
    )


RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


def renew_call(*, keys: RedisKeys, job_id: str, worker: str, lease_ms: int) -> ScriptCall:
    """Extend ``worker``'s lease. Replies 1, or 0 when another holds it (or none)."""
    return ScriptCall(keys=[keys.lease(job_id)], args=[worker, lease_ms])


# Gives up the lease so the janitor re-dispatches at once.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def release_call(*, keys: RedisKeys, job_id: str, worker: str) -> ScriptCall:
    """Drop ``worker``'s lease. Replies 1, or 0 when it did not hold it."""
    return ScriptCall(keys=[keys.lease(job_id)], args=[worker])


FINISH = (
    COMMON_LUA
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status or is_terminal(status) then return 0 end
local holder = redis.call('GET', KEYS[2])
if holder ~= ARGV[1] then
  if holder or status ~= '"running"' then return 0 end
  if redis.call('HGET', KEYS[1], 'worker') ~= cjson.encode(ARGV[1]) then return 0 end
end
local fields = cjson.decode(ARGV[3])
for name, value in pairs(fields) do redis.call('HSET', KEYS[1], name, value) end
redis.call('HSET', KEYS[1], 'status', cjson.encode(ARGV[2]), 'finished_at', ARGV[4])
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[8])
quota_done(KEYS[1], ARGV[10], ARGV[8])
redis.call('EXPIRE', KEYS[1], ARGV[7])
local pipeline = job_pipeline(KEYS[1])
count_job(KEYS[5], pipeline, ARGV[2])
local started = tonumber(redis.call('HGET', KEYS[1], 'started_at'))
if started then observe(KEYS[5], 'run', pipeline, math.max(0, ARGV[4] - started)) end
append_event(KEYS[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[2], ARGV[9], ARGV[4])
webhook_enqueue(KEYS[1], ARGV[11], ARGV[5], ARGV[8], 'completed', ARGV[4], ARGV[7], 0)
settle_parent(KEYS[1], ARGV[8], ARGV[4], {ARGV[5], ARGV[6], ARGV[7]}, ARGV[10], ARGV[11], KEYS[5])
return 1
"""
)


def finish_call(
    *,
    keys: RedisKeys,
    job_id: str,
    worker: str,
    status: str,
    fields: dict[str, Any],
    event_data: dict[str, Any],
    sink: EventSink,
    now: float,
) -> ScriptCall:
    """Make the job ``status`` with ``fields`` if ``worker`` owns it. Replies 1 or 0."""
    return ScriptCall(
        keys=_transition_keys(keys, job_id),
        args=[
            worker,
            status,
            json.dumps(encode_fields(fields)),
            repr(now),
            *sink.args(job_id),
            json.dumps(event_data),
            keys.quota_prefix,
            keys.webhook_prefix,
        ],
    )


CANCEL = (
    COMMON_LUA
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
if is_terminal(status) then return cjson.decode(status) end
redis.call('HSET', KEYS[1], 'cancel_requested', 'true')
if status == '"queued"' then
  local pipeline = job_pipeline(KEYS[1])
  redis.call('HSET', KEYS[1], 'status', '"canceled"', 'finished_at', ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[5])
  redis.call('ZREM', ARGV[6] .. pipeline, ARGV[5])
  quota_done(KEYS[1], ARGV[7], ARGV[5])
  count_job(KEYS[4], pipeline, 'canceled')
  append_event(KEYS[3], ARGV[2], ARGV[3], ARGV[4], ARGV[5], 'canceled', '{}', ARGV[1])
  webhook_enqueue(KEYS[1], ARGV[8], ARGV[2], ARGV[5], 'completed', ARGV[1], ARGV[4], 0)
  return 'canceled'
end
if redis.call('HGET', KEYS[1], 'phase') == '"segments"' then
  end_parent(job_base(KEYS[1], ARGV[5]), KEYS[1], ARGV[5], 'canceled', nil, ARGV[1],
             {ARGV[2], ARGV[3], ARGV[4]}, ARGV[7], ARGV[8], KEYS[4])
  return 'canceled'
end
return 'cancel_requested'
"""
)


def cancel_call(*, keys: RedisKeys, job_id: str, sink: EventSink, now: float) -> ScriptCall:
    """Cancel a queued job, flag a running one. Replies what happened (or the final status)."""
    return ScriptCall(
        keys=[keys.job(job_id), keys.running, keys.events(job_id), keys.stats],
        args=[
            repr(now),
            *sink.args(job_id),
            keys.queued_prefix,
            keys.quota_prefix,
            keys.webhook_prefix,
        ],
    )


REQUEUE = (
    COMMON_LUA
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= '"running"' then
  redis.call('ZREM', KEYS[3], ARGV[5])
  return 'skipped'
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'alive' end
redis.call('ZREM', KEYS[3], ARGV[5])
local pipeline = job_pipeline(KEYS[1])
if redis.call('HGET', KEYS[1], 'cancel_requested') == 'true' then
  redis.call('HSET', KEYS[1], 'status', '"canceled"', 'finished_at', ARGV[1])
  quota_done(KEYS[1], ARGV[9], ARGV[5])
  count_job(KEYS[5], pipeline, 'canceled')
  append_event(KEYS[4], ARGV[2], ARGV[3], ARGV[4], ARGV[5], 'canceled', '{}', ARGV[1])
  webhook_enqueue(KEYS[1], ARGV[11], ARGV[2], ARGV[5], 'completed', ARGV[1], ARGV[4], 0)
  settle_parent(KEYS[1], ARGV[5], ARGV[1], {ARGV[2], ARGV[3], ARGV[4]}, ARGV[9], ARGV[11], KEYS[5])
  return 'canceled'
end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') or 0
local max_attempts, lost = tonumber(ARGV[6]), ARGV[7]
if is_live_session(KEYS[1]) then max_attempts, lost = 1, ARGV[10] end
if attempts >= max_attempts then
  redis.call('HSET', KEYS[1], 'status', '"failed"', 'finished_at', ARGV[1], 'error', lost)
  quota_done(KEYS[1], ARGV[9], ARGV[5])
  count_job(KEYS[5], pipeline, 'failed')
  append_event(KEYS[4], ARGV[2], ARGV[3], ARGV[4], ARGV[5], 'failed', lost, ARGV[1])
  webhook_enqueue(KEYS[1], ARGV[11], ARGV[2], ARGV[5], 'completed', ARGV[1], ARGV[4], 0)
  settle_parent(KEYS[1], ARGV[5], ARGV[1], {ARGV[2], ARGV[3], ARGV[4]}, ARGV[9], ARGV[11], KEYS[5])
  return 'failed'
end
redis.call('HSET', KEYS[1], 'status', '"queued"', 'worker', 'null')
local created = redis.call('HGET', KEYS[1], 'created_at') or ARGV[1]
redis.call('ZADD', ARGV[8] .. pipeline, created, ARGV[5])
quota_move(KEYS[1], ARGV[9], ARGV[5], 'running', 'queued')
append_event(KEYS[4], ARGV[2], ARGV[3], ARGV[4], ARGV[5], 'queued',
             cjson.encode({reason = 'worker_lost', attempts = attempts}), ARGV[1])
return 'requeued'
"""
)


def requeue_call(
    *, keys: RedisKeys, job_id: str, max_attempts: int, sink: EventSink, now: float
) -> ScriptCall:
    """Queue a running job whose lease expired again, or fail it past ``max_attempts``
    (a live session's job at once: it is never re-dispatched)."""
    return ScriptCall(
        keys=_transition_keys(keys, job_id),
        args=[
            repr(now),
            *sink.args(job_id),
            max_attempts,
            _worker_lost_error(max_attempts),
            keys.queued_prefix,
            keys.quota_prefix,
            _live_lost_error(),
            keys.webhook_prefix,
        ],
    )
