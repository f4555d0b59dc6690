"""The Lua scripts behind ``JobStore``: each state change and its event as one atomic step.

Job hash fields hold JSON values, so statuses compare as quoted strings.
"""

from __future__ import annotations

from visiovox.jobs.events import APPEND_EVENT_LUA

TERMINAL_LUA = """
local function is_terminal(status)
  return status == '"succeeded"' or status == '"failed"' or status == '"canceled"'
end
"""

# KEYS: job, owner index, owners, stream[, queue]. ARGV: fields_json, ttl, created_at,
# job_id, owner, channel, maxlen, event_data, now[, task message].
CREATE = (
    APPEND_EVENT_LUA
    + """
local flat = {}
for name, value in pairs(cjson.decode(ARGV[1])) do
  flat[#flat + 1] = name
  flat[#flat + 1] = value
end
redis.call('HSET', KEYS[1], unpack(flat))
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[5])
append_event(KEYS[4], ARGV[6], ARGV[7], ARGV[2], ARGV[4], 'queued', ARGV[8], ARGV[9])
if KEYS[5] then redis.call('LPUSH', KEYS[5], ARGV[10]) end
return 1
"""
)

# KEYS: job, lease, running, stream. ARGV: worker, lease_ms, max_attempts, now,
# channel, maxlen, ttl, job_id, worker_lost_error.
CLAIM = (
    APPEND_EVENT_LUA
    + TERMINAL_LUA
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', 0} end
if is_terminal(status) then return {'terminal', 0} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'leased', 0} end
local now = ARGV[4]
if redis.call('HGET', KEYS[1], 'cancel_requested') == 'true' then
  redis.call('HSET', KEYS[1], 'status', '"canceled"', 'finished_at', now)
  redis.call('ZREM', KEYS[3], ARGV[8])
  append_event(KEYS[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], 'canceled', '{}', now)
  return {'canceled', 0}
end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') or 0
if attempts >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'status', '"failed"', 'finished_at', now, 'error', ARGV[9])
  redis.call('ZREM', KEYS[3], ARGV[8])
  append_event(KEYS[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], 'failed', ARGV[9], now)
  return {'exhausted', attempts}
end
attempts = attempts + 1
redis.call('HSET', KEYS[1], 'status', '"running"', 'attempts', tostring(attempts),
           'worker', cjson.encode(ARGV[1]), 'started_at', now)
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[3], now, ARGV[8])
append_event(KEYS[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], 'started',
             cjson.encode({worker = ARGV[1], attempt = attempts}), now)
return {'claimed', attempts}
"""
)

# KEYS: lease. ARGV: worker, lease_ms.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: job, lease, running, stream. ARGV: worker, status, fields_json, now,
# channel, maxlen, ttl, job_id, event_data.
FINISH = (
    APPEND_EVENT_LUA
    + TERMINAL_LUA
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
redis.call('EXPIRE', KEYS[1], ARGV[7])
append_event(KEYS[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[2], ARGV[9], ARGV[4])
return 1
"""
)

# KEYS: job, running, stream. ARGV: now, channel, maxlen, ttl, job_id.
CANCEL = (
    APPEND_EVENT_LUA
    + TERMINAL_LUA
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
if is_terminal(status) then return cjson.decode(status) end
redis.call('HSET', KEYS[1], 'cancel_requested', 'true')
if status == '"queued"' then
  redis.call('HSET', KEYS[1], 'status', '"canceled"', 'finished_at', ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[5])
  append_event(KEYS[3], ARGV[2], ARGV[3], ARGV[4], ARGV[5], 'canceled', '{}', ARGV[1])
  return 'canceled'
end
return 'cancel_requested'
"""
)

# KEYS: job, lease, running, stream. ARGV: now, channel, maxlen, ttl, job_id,
# max_attempts, worker_lost_error.
REQUEUE = (
    APPEND_EVENT_LUA
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= '"running"' then
  redis.call('ZREM', KEYS[3], ARGV[5])
  return 'skipped'
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'alive' end
redis.call('ZREM', KEYS[3], ARGV[5])
if redis.call('HGET', KEYS[1], 'cancel_requested') == 'true' then
  redis.call('HSET', KEYS[1], 'status', '"canceled"', 'finished_at', ARGV[1])
  append_event(KEYS[4], ARGV[2], ARGV[3], ARGV[4], ARGV[5], 'canceled', '{}', ARGV[1])
  return 'canceled'
end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') or 0
if attempts >= tonumber(ARGV[6]) then
  redis.call('HSET', KEYS[1], 'status', '"failed"', 'finished_at', ARGV[1], 'error', ARGV[7])
  append_event(KEYS[4], ARGV[2], ARGV[3], ARGV[4], ARGV[5], 'failed', ARGV[7], ARGV[1])
  return 'failed'
end
redis.call('HSET', KEYS[1], 'status', '"queued"', 'worker', 'null')
append_event(KEYS[4], ARGV[2], ARGV[3], ARGV[4], ARGV[5], 'queued',
             cjson.encode({reason = 'worker_lost', attempts = attempts}), ARGV[1])
return 'requeued'
"""
)
