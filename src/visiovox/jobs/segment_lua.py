"""The Lua that ties a segment job to its parent, shared by every transition's script.

``jobs/segments.py`` tells the life of a segmented job; this is its Lua half,
in ``jobs/scripts.py``'s ``COMMON_LUA`` after the helpers it calls (events,
statistics, quotas, webhooks, ``is_terminal``). Every key is derived from the
job's own key (``<prefix>:job:<id>``), as the scripts derive the queued sets.
"""

from __future__ import annotations

# Shared by the transitions: the key base (``<prefix>:``) from a job's key, a
# parent's end (its terminal event, quota, statistics and webhook) with its
# children cancelled, and the settling of a parent by a child's terminal transition.
SETTLE_PARENT_LUA = """
local function job_base(job_key, job_id)
  return string.sub(job_key, 1, #job_key - #job_id - 4)
end
local function cancel_segments(base, parent_key, now, ttl)
  local ids = cjson.decode(redis.call('HGET', parent_key, 'segments') or '[]')
  for _, id in ipairs(ids) do
    local key = base .. 'job:' .. id
    local status = redis.call('HGET', key, 'status')
    if status == '"queued"' then
      redis.call('HSET', key, 'status', '"canceled"', 'finished_at', now,
                 'cancel_requested', 'true')
      redis.call('ZREM', base .. 'queued:' .. job_pipeline(key), id)
    elseif status and not is_terminal(status) then
      redis.call('HSET', key, 'cancel_requested', 'true')
    end
    if status then redis.call('EXPIRE', key, ttl) end
  end
  redis.call('DEL', parent_key .. ':segments')
end
local function end_parent(base, parent_key, parent_id, status, error, now, sink, quota_prefix,
                          webhook_prefix, stats)
  redis.call('HSET', parent_key, 'status', cjson.encode(status), 'finished_at', now)
  if error then redis.call('HSET', parent_key, 'error', error) end
  redis.call('ZREM', base .. 'running', parent_id)
  quota_done(parent_key, quota_prefix, parent_id)
  redis.call('EXPIRE', parent_key, sink[3])
  count_job(stats, job_pipeline(parent_key), status)
  append_event(base .. 'events:' .. parent_id, sink[1], sink[2], sink[3], parent_id, status,
               error or '{}', now)
  webhook_enqueue(parent_key, webhook_prefix, sink[1], parent_id, 'completed', now, sink[3], 0)
  cancel_segments(base, parent_key, now, sink[3])
end
local function settle_parent(job_key, job_id, now, sink, quota_prefix, webhook_prefix, stats)
  local parent = redis.call('HGET', job_key, 'parent_id')
  if not parent or parent == 'null' then return end
  parent = cjson.decode(parent)
  local base = job_base(job_key, job_id)
  local parent_key = base .. 'job:' .. parent
  local parent_status = redis.call('HGET', parent_key, 'status')
  if not parent_status or is_terminal(parent_status) then return end
  if redis.call('HGET', parent_key, 'phase') ~= '"segments"' then return end
  local status = redis.call('HGET', job_key, 'status')
  if status == '"succeeded"' then
    if redis.call('HINCRBY', parent_key, 'segments_left', -1) > 0 then return end
    redis.call('HSET', parent_key, 'phase', '"stitch"', 'attempts', '0')
    local resume = cjson.decode(redis.call('HGET', parent_key, 'resume'))
    redis.call('LPUSH', resume['list'], resume['message'])
    redis.call('ZADD', base .. 'stitch_waiting', now, parent)
  elseif status == '"failed"' then
    end_parent(base, parent_key, parent, 'failed', redis.call('HGET', job_key, 'error'), now,
               sink, quota_prefix, webhook_prefix, stats)
  else
    end_parent(base, parent_key, parent, 'canceled', nil, now, sink, quota_prefix,
               webhook_prefix, stats)
  end
end
"""
