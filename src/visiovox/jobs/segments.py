"""A job split into segment jobs across the fleet: the split, the join, and what ties them.

A long video job (``pipelines/segmented.py``) runs in three phases, none of
which holds a worker while it waits for another:

1. *plan*: the job's first run plans its segments and calls ``FanOut.split``:
   one Lua step (``SPLIT``) writes a child job per segment (the parent's
   pipeline, params and inputs, ``parent_id`` and its ``segment``), pushes
   their messages on the shared queue the scheduler chose, and leaves the
   parent ``running`` in phase ``segments`` with no lease and out of the
   running set, so the janitor passes it by. The run then ends
   (``SegmentsPlanned``) and its worker takes the next job, often a segment.
2. *segments*: any worker runs a child like any job (claim, lease, janitor:
   a lost child is re-run alone). Each terminal transition of a child settles
   its parent in the same script (``SETTLE_PARENT_LUA`` of ``jobs/segment_lua.py``,
   in every transition of ``jobs/scripts.py``): the last success pushes the parent's own message
   again (phase ``stitch``, attempts counted afresh); a failure fails the
   parent with the child's error (its code) and cancels the other children.
   Children's progress moves the parent's one progress bar
   (``FanOut.segment_progress``).
3. *stitch*: a worker claims the parent again and joins the children's outputs.
   The push also notes the parent in ``stitch_waiting``: should its message be
   lost before a worker claims it (as a queued job's can be, ``jobs/orphans.py``),
   the janitor dispatches it again.

Cancelling a parent that waits on its children cancels it and them at once
(``CANCEL``). Children never count against quotas (no quota class), are in
no owner's index, and read as unknown to their owner (``jobs/reader.py``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import redis

from visiovox.jobs.events import APPEND_EVENT_LUA, EventLog
from visiovox.jobs.ids import new_id
from visiovox.jobs.keys import RedisKeys, as_text
from visiovox.jobs.model import EventType, Job, JobStatus, Progress
from visiovox.jobs.queues import Route, priority_list
from visiovox.jobs.records import encode_fields
from visiovox.jobs.scripts import COMMON_LUA, EventSink
from visiovox.jobs.task_message import run_job_message

# The parent's progress bar: planning up to PLANNED, the children's frames up to
# SEGMENTS_DONE, the stitch to 100.
PLANNED, SEGMENTS_DONE = 2.0, 95.0


class SegmentsPlanned(Exception):
    """The run split its job into segment jobs; the job waits for them (not an outcome)."""


class SplitRefused(Exception):
    """The split did not happen: the job was canceled, or this worker lost its lease."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the job was not split: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class SegmentRole:
    """What part of a segmented job an attempt runs.

    ``segment``: a child's plan (set by the parent's planner); ``children``: the
    parent's children in order, when the attempt is its stitch; ``can_split``: a
    top-level job in its first phase, which may split.
    """

    segment: dict[str, Any] | None = None
    children: tuple[str, ...] = ()
    can_split: bool = False

    @classmethod
    def of(cls, job: Job) -> SegmentRole:
        if job.parent_id is not None:
            return cls(segment=job.segment or {})
        if job.phase == "stitch":
            return cls(children=tuple(job.segments))
        return cls(can_split=job.phase is None)


@dataclass(frozen=True)
class SegmentJob:
    """One child to create: its plan and how many output frames it holds (for progress)."""

    plan: dict[str, Any]
    frames: int
    id: str = field(default_factory=new_id)


# KEYS: parent job, its lease, running, its stream, stats. ARGV: worker, now, channel,
# maxlen, ttl, parent id, children ids (JSON), resume (JSON), queued prefix, then four
# per child: id, fields (JSON), queue list, message.
SPLIT = (
    COMMON_LUA
    + """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 'lost' end
if redis.call('HGET', KEYS[1], 'cancel_requested') == 'true' then return 'canceled' end
local base = job_base(KEYS[1], ARGV[6])
local count = (#ARGV - 9) / 4
for i = 0, count - 1 do
  local id, fields = ARGV[10 + 4 * i], cjson.decode(ARGV[11 + 4 * i])
  local key = base .. 'job:' .. id
  local flat = {}
  for name, value in pairs(fields) do
    flat[#flat + 1] = name
    flat[#flat + 1] = value
  end
  redis.call('HSET', key, unpack(flat))
  redis.call('EXPIRE', key, ARGV[5])
  local pipeline = job_pipeline(key)
  redis.call('ZADD', ARGV[9] .. pipeline, ARGV[2], id)
  count_job(KEYS[5], pipeline, 'queued')
  redis.call('LPUSH', ARGV[12 + 4 * i], ARGV[13 + 4 * i])
end
redis.call('HSET', KEYS[1], 'segments', ARGV[7], 'segments_left', tostring(count),
           'phase', '"segments"', 'resume', ARGV[8])
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[6])
append_event(KEYS[4], ARGV[3], ARGV[4], ARGV[5], ARGV[6], 'stage',
             cjson.encode({stage = 'segments', segments = count}), ARGV[2])
return 'waiting'
"""
)

# KEYS: parent job, its per-child frames. ARGV: child id, frames done, frames in all,
# ttl, low and high ends of the segments' share. Replies the parent's new percent, or
# -1 when it would not move forward (another child reported more meanwhile), and the
# frames done in all.
SEGMENT_PROGRESS = (
    APPEND_EVENT_LUA
    + """
if redis.call('HGET', KEYS[1], 'phase') ~= '"segments"' or
   redis.call('HGET', KEYS[1], 'status') ~= '"running"' then return {'-1', 0} end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
local done = 0
for _, value in ipairs(redis.call('HVALS', KEYS[2])) do done = done + tonumber(value) end
local low, high = tonumber(ARGV[5]), tonumber(ARGV[6])
local percent = low + (high - low) * math.min(1, done / math.max(1, tonumber(ARGV[3])))
percent = math.floor(percent * 100) / 100
local current = cjson.decode(redis.call('HGET', KEYS[1], 'progress') or '{}')
if current['percent'] and current['percent'] >= percent then return {'-1', done} end
local message = string.format('frame %d of %d', done, tonumber(ARGV[3]))
redis.call('HSET', KEYS[1], 'progress',
           cjson.encode({percent = percent, stage = 'segments', message = message}))
return {tostring(percent), done}
"""
)


class FanOut:
    """Splits a running job into segment jobs and reports their progress on the parent."""

    def __init__(
        self, client: redis.Redis, *, keys: RedisKeys, events: EventLog, retention_s: int
    ) -> None:
        self._keys = keys
        self._events = events
        self._retention_s = retention_s
        self._sink = EventSink(channel=keys.notices, maxlen=events.maxlen, ttl_s=retention_s)
        self._split = client.register_script(SPLIT)
        self._progress = client.register_script(SEGMENT_PROGRESS)

    def split(self, parent: Job, *, worker: str, children: list[SegmentJob], route: Route) -> None:
        """Create ``children`` on ``route`` and leave ``parent`` waiting for them.

        ``route`` places the children (its queue, a shared one); the parent's stitch
        goes to the shared queue of its own device class. Raises ``SplitRefused``.
        """
        now = time.time()
        total = sum(child.frames for child in children)
        args: list[str | int | float] = [
            worker,
            repr(now),
            *self._sink.args(parent.id)[:3],
            parent.id,
            json.dumps([child.id for child in children]),
            json.dumps(self._resume(parent, route)),
            self._keys.queued_prefix,
        ]
        for child in children:
            record = _child_record(parent, child, route=route, now=now, total_frames=total)
            queue = priority_list(route.queue, parent.priority)
            message = run_job_message(child.id, queue=route.queue, priority=parent.priority.step)
            args += [child.id, json.dumps(encode_fields(record)), queue, message]
        keys = self._keys
        outcome = as_text(
            self._split(
                keys=[
                    keys.job(parent.id),
                    keys.lease(parent.id),
                    keys.running,
                    keys.events(parent.id),
                    keys.stats,
                ],
                args=args,
            )
        )
        if outcome != "waiting":
            raise SplitRefused(outcome)

    def _resume(self, parent: Job, route: Route) -> dict[str, str]:
        """The parent's own message, pushed when its last child succeeds."""
        queue = route.shared
        message = run_job_message(parent.id, queue=queue, priority=parent.priority.step)
        return {"list": priority_list(queue, parent.priority), "message": message}

    def segment_progress(self, child: Job, *, frames_done: int) -> None:
        """Move the parent's progress bar by ``child``'s frames done (throttled by the caller)."""
        segment = child.segment or {}
        parent_id = child.parent_id
        if parent_id is None:
            return
        reply, done = self._progress(
            keys=[self._keys.job(parent_id), self._keys.job(parent_id) + ":segments"],
            args=[
                child.id,
                frames_done,
                int(segment.get("total_frames", 0)),
                self._retention_s,
                PLANNED,
                SEGMENTS_DONE,
            ],
        )
        percent = float(as_text(reply))
        if percent < 0:
            return
        total = int(segment.get("total_frames", 0))
        message = f"frame {int(done)} of {total}"
        progress = Progress(percent=percent, stage="segments", message=message)
        self._events.append(parent_id, EventType.PROGRESS, progress.model_dump(mode="json"))


def _child_record(
    parent: Job, child: SegmentJob, *, route: Route, now: float, total_frames: int
) -> dict[str, Any]:
    """The child's job hash: the parent's work, its own segment, counted in no quota."""
    record = parent.model_copy(
        update={
            "id": child.id,
            "status": JobStatus.QUEUED,
            "created_at": now,
            "started_at": None,
            "finished_at": None,
            "progress": Progress(),
            "outputs": [],
            "result": None,
            "error": None,
            "attempts": 0,
            "worker": None,
            "queue": route.queue,
            "device_class": route.device_class.value,
            "cancel_requested": False,
            "quota": None,
            "max_running": 0,
            "webhook": None,
            "webhook_events": [],
            "webhook_key": None,
            "parent_id": parent.id,
            "segment": {**child.plan, "frames": child.frames, "total_frames": total_frames},
            "segments": [],
            "phase": None,
        }
    )
    return record.model_dump(mode="json")
