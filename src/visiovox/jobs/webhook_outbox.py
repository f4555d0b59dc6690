"""The webhook outbox's write side: the Lua that enqueues a delivery beside its event.

A job that asked for webhooks (``webhook_events`` in its record, set at creation
by ``api/submission.py``) gets one delivery per event it asked for, enqueued by
the very script that writes the event: the terminal transitions (``completed``)
and the claim (``started``) in ``jobs/scripts.py``, ``progress`` and ``output``
in ``jobs/events.py``. So a job cannot end without its ``completed`` delivery
being in the outbox, whichever process ends it, and a crash right after loses
nothing: the outbox is Redis (``webhooks/`` delivers it).

Keys (under ``RedisKeys.webhook_prefix``, passed in as ``hooks``; the rest are
derived here, as ``jobs/scripts.py`` derives the queued sets): ``msg_<job>_<n>``,
a delivery's hash (its id is the ``webhook-id`` header, stable across retries);
``job:<job>``, the job's delivery ids; ``due``, pending deliveries scored by when
each is next tried; ``throttle:<job>``, which lets one ``progress`` delivery through per interval
(the others are skipped: progress is advisory, the next one carries the latest).
A new delivery is announced as the notice ``webhooks`` on the deployment's
notice channel, which every gateway already reads (``api/hub.py``): it wakes
the delivery loop at once, without another subscription.
"""

from __future__ import annotations

import enum


class WebhookEvent(enum.StrEnum):
    """What a delivery tells: the job started, progressed, wrote an output, or ended."""

    STARTED = "started"
    PROGRESS = "progress"
    OUTPUT = "output"
    COMPLETED = "completed"


DEFAULT_EVENTS = (WebhookEvent.COMPLETED,)
# The notice (in place of a job id, which is 32 hex digits) that wakes the deliverer.
WAKE_NOTICE = "webhooks"

WEBHOOK_ENQUEUE_LUA = """
local function webhook_enqueue(job_key, hooks, channel, job_id, event, now, ttl, throttle_ms)
  local wanted = redis.call('HGET', job_key, 'webhook_events')
  if not wanted or not string.find(wanted, '"' .. event .. '"', 1, true) then return end
  if event == 'progress' and tonumber(throttle_ms) > 0 then
    local throttle = hooks .. 'throttle:' .. job_id
    if not redis.call('SET', throttle, '1', 'NX', 'PX', throttle_ms) then return end
  end
  local log = hooks .. 'job:' .. job_id
  local id = 'msg_' .. job_id .. '_' .. (redis.call('LLEN', log) + 1)
  redis.call('RPUSH', log, id)
  redis.call('EXPIRE', log, ttl)
  redis.call('HSET', hooks .. id, 'job', job_id, 'event', event, 'status', 'pending',
             'attempts', 0, 'created_at', now, 'next_at', now)
  redis.call('EXPIRE', hooks .. id, ttl)
  redis.call('ZADD', hooks .. 'due', now, id)
  redis.call('PUBLISH', channel, 'webhooks')
end
"""
