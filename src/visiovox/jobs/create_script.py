"""Job creation as one Lua script, with the one function that builds its call.

``CREATE`` checks the pipeline's queue cap, the owner's quota and the
submissions bucket, then writes the record, the owner index and quota entry,
the ``queued`` event and notice, and the Celery message, or nothing at all.
The shared Lua (events, statistics, quotas) and ``ScriptCall``/``EventSink``
come from ``jobs/scripts.py``, beside the other transitions.
"""

from __future__ import annotations

import json

from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.model import Job
from visiovox.jobs.queues import Route, priority_list, queue_lists
from visiovox.jobs.quotas import Admission
from visiovox.jobs.ratelimit import TAKE_TOKEN_LUA, Bucket, BucketKind
from visiovox.jobs.records import encode_fields
from visiovox.jobs.scripts import COMMON_LUA, EventSink, ScriptCall
from visiovox.jobs.task_message import run_job_message

# A private route (affinity) holds only while its worker is ready and its private
# queue empty; else the job goes to the fallback (shared) queue. The owner's quota
# and the submissions bucket are checked before anything is written, and the
# bucket's token taken only once the job is sure to be created.
CREATE = (
    COMMON_LUA
    + TAKE_TOKEN_LUA
    + """
local cap = tonumber(ARGV[10])
if cap > 0 then
  local depth = redis.call('ZCARD', KEYS[6])
  if depth >= cap then return {'full', depth} end
end
local counted, owner_sets = ARGV[12], ARGV[13]
local quota_cap = tonumber(ARGV[14])
if counted == 'live' then quota_cap = tonumber(ARGV[15]) end
local quota_set = owner_sets .. (counted == 'live' and 'live' or 'queued')
if counted ~= '' and quota_cap > 0 then
  local count = redis.call('ZCARD', quota_set)
  local which = counted == 'live' and 'live' or 'queued'
  if count >= quota_cap then return {'quota', which, count, quota_cap} end
end
local bucket, rate, burst = ARGV[16], tonumber(ARGV[17]), tonumber(ARGV[18])
local now = tonumber(ARGV[8])
if bucket ~= '' then
  local verdict = take_token(bucket, rate, burst, now, true)
  if verdict[1] == 0 then return {'rate', verdict[2], verdict[3], verdict[4]} end
  take_token(bucket, rate, burst, now, false)
end
if counted ~= '' then redis.call('ZADD', quota_set, ARGV[3], ARGV[4]) end
local queue, message, list = ARGV[19], ARGV[20], KEYS[7]
if KEYS[9] then
  local ready = false
  local info = redis.call('GET', KEYS[9])
  if info then ready = cjson.decode(info)['state'] == 'ready' end
  if ready then
    for i = 10, 13 do
      if redis.call('LLEN', KEYS[i]) > 0 then ready = false break end
    end
  end
  if not ready then queue, message, list = ARGV[21], ARGV[22], KEYS[8] end
end
local flat = {}
for name, value in pairs(cjson.decode(ARGV[1])) do
  flat[#flat + 1] = name
  flat[#flat + 1] = value
end
redis.call('HSET', KEYS[1], unpack(flat))
if queue then redis.call('HSET', KEYS[1], 'queue', cjson.encode(queue)) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[5])
redis.call('ZADD', KEYS[6], ARGV[3], ARGV[4])
count_job(KEYS[5], ARGV[9], 'queued')
append_event(KEYS[4], ARGV[6], ARGV[7], ARGV[2], ARGV[4], 'queued',
             cjson.encode({queue = queue, priority = ARGV[11]}), ARGV[8])
if list then redis.call('LPUSH', list, message) end
return {'created', queue or ''}
"""
)


def create_call(
    *,
    keys: RedisKeys,
    job: Job,
    route: Route | None,
    max_queued: int,
    sink: EventSink,
    now: float,
    admission: Admission | None = None,
    submits: Bucket | None = None,
    identity: str = "",
) -> ScriptCall:
    """Store ``job`` (record, owner index, ``queued`` event) and push its task when routed.

    ``max_queued`` 0 means no cap. ``admission`` counts the job against its owner's
    quota (None: it never counts); ``submits`` is ``identity``'s submissions bucket
    (None: no limit). Replies ``['created', queue]``, ``['full', depth]``, ``['quota',
    which, count, cap]`` or ``['rate', tokens, ms until one, ms until full]``.
    """
    call = ScriptCall(
        keys=[
            keys.job(job.id),
            keys.owner_index(job.owner),
            keys.owners,
            keys.events(job.id),
            keys.stats,
            keys.queued(job.pipeline),
        ],
        args=[
            json.dumps(encode_fields(job.model_dump(mode="json"))),
            sink.ttl_s,
            repr(job.created_at),
            job.id,
            job.owner,
            sink.channel,
            sink.maxlen,
            repr(now),
            job.pipeline,
            max_queued,
            job.priority.value,
            admission.quota.value if admission else "",
            keys.quota(job.owner),
            admission.max_queued if admission else 0,
            admission.max_live if admission else 0,
            keys.rate(identity, BucketKind.SUBMITS) if submits else "",
            repr(submits.rate_per_s) if submits else 0,
            submits.burst if submits else 0,
        ],
    )
    if route is None:
        return call
    step = route.priority.step
    call.keys.append(priority_list(route.queue, route.priority))
    call.args.extend([route.queue, run_job_message(job.id, queue=route.queue, priority=step)])
    if route.worker is not None:
        # The fallback: the shared list, then what tells whether the worker is free.
        call.keys.append(priority_list(route.shared, route.priority))
        call.keys.append(keys.worker(route.worker))
        call.keys.extend(queue_lists(route.queue))  # the worker's private queue
        call.args.extend([route.shared, run_job_message(job.id, queue=route.shared, priority=step)])
    return call
