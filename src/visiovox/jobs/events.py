"""Per-job event streams (Redis Streams, capped) plus one notice channel.

Every event is ``XADD`` to the job's stream and announced by a ``PUBLISH`` of
the job id on the deployment's notice channel. Pub/sub is at-most-once, so the
stream is the record: readers replay from the last event id they saw. A
``progress`` or ``output`` event of a job that asked for that webhook enqueues
its delivery in the same script (``jobs/webhook_outbox.py``).
"""

from __future__ import annotations

import json
import time
from typing import Any, cast

import redis

from visiovox.jobs.keys import RedisKeys, as_text
from visiovox.jobs.model import EventType, JobEvent
from visiovox.jobs.webhook_outbox import WEBHOOK_ENQUEUE_LUA

# Lua used by the job store's scripts so a state change and its event land
# atomically. Expects: stream key, notice channel, maxlen, ttl, job id.
APPEND_EVENT_LUA = """
local function append_event(stream, channel, maxlen, ttl, job_id, etype, data, ts)
  local id = redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*',
                        'type', etype, 'data', data, 'ts', ts)
  redis.call('EXPIRE', stream, ttl)
  redis.call('PUBLISH', channel, job_id)
  return id
end
"""

# KEYS: stream, job. ARGV: type, data, ts, maxlen, ttl, channel, job id, webhook
# prefix, progress webhook interval (ms).
_APPEND = (
    APPEND_EVENT_LUA
    + WEBHOOK_ENQUEUE_LUA
    + """
local id = append_event(KEYS[1], ARGV[6], ARGV[4], ARGV[5], ARGV[7], ARGV[1], ARGV[2], ARGV[3])
if ARGV[1] == 'progress' or ARGV[1] == 'output' then
  webhook_enqueue(KEYS[2], ARGV[8], ARGV[6], ARGV[7], ARGV[1], ARGV[3], ARGV[5], ARGV[9])
end
return id
"""
)


class EventLog:
    """Appends and replays job events."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        keys: RedisKeys,
        maxlen: int,
        retention_s: int,
        progress_webhook_interval_s: float = 0.0,
    ) -> None:
        self._redis = client
        self._keys = keys
        self._maxlen = maxlen
        self._retention_s = retention_s
        self._progress_webhook_ms = int(progress_webhook_interval_s * 1000)
        self._append = client.register_script(_APPEND)

    @property
    def maxlen(self) -> int:
        return self._maxlen

    def append(self, job_id: str, event_type: EventType, data: dict[str, Any] | None = None) -> str:
        """Append one event and announce it (and enqueue its webhook); returns the event id."""
        return as_text(
            self._append(
                keys=[self._keys.events(job_id), self._keys.job(job_id)],
                args=[
                    event_type.value,
                    json.dumps(data or {}),
                    repr(time.time()),
                    self._maxlen,
                    self._retention_s,
                    self._keys.notices,
                    job_id,
                    self._keys.webhook_prefix,
                    self._progress_webhook_ms,
                ],
            )
        )

    def read_after(self, job_id: str, after: str = "0", count: int | None = None) -> list[JobEvent]:
        """Events with an id greater than ``after``, oldest first, on the threads' client."""
        entries = cast(
            list[tuple[Any, dict[Any, Any]]],
            self._redis.xrange(self._keys.events(job_id), min=stream_start(after), count=count),
        )
        return [decode_event(entry_id, fields) for entry_id, fields in entries]


def stream_start(after: str) -> str:
    """The ``XRANGE`` lower bound for the events after ``after`` ("0" or "-": all of them)."""
    return "-" if after in ("0", "0-0", "-") else f"({after}"


def decode_event(entry_id: bytes | str, fields: dict[Any, Any]) -> JobEvent:
    """A stream entry as a ``JobEvent``."""

    values = {as_text(k): as_text(v) for k, v in fields.items()}
    return JobEvent(
        id=as_text(entry_id),
        type=EventType(values["type"]),
        data=json.loads(values.get("data", "{}")),
        ts=float(values.get("ts", "0")),
    )
