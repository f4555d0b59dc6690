"""Per-job event streams (Redis Streams, capped) plus one notice channel.

Every event is ``XADD`` to the job's stream and announced by a ``PUBLISH`` of
the job id on the deployment's notice channel. Pub/sub is at-most-once, so the
stream is the record: readers replay from the last event id they saw.
"""

from __future__ import annotations

import json
import time
from typing import Any, cast

import redis

from visiovox.jobs.keys import RedisKeys, as_text
from visiovox.jobs.model import EventType, JobEvent

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


class EventLog:
    """Appends and replays job events."""

    def __init__(
        self, client: redis.Redis, *, keys: RedisKeys, maxlen: int, retention_s: int
    ) -> None:
        self._redis = client
        self._keys = keys
        self._maxlen = maxlen
        self._retention_s = retention_s

    @property
    def maxlen(self) -> int:
        return self._maxlen

    def append(self, job_id: str, event_type: EventType, data: dict[str, Any] | None = None) -> str:
        """Append one event and announce it; returns the event id."""
        stream = self._keys.events(job_id)
        pipe = self._redis.pipeline(transaction=True)
        pipe.xadd(
            stream,
            {"type": event_type.value, "data": json.dumps(data or {}), "ts": repr(time.time())},
            maxlen=self._maxlen,
            approximate=True,
        )
        pipe.expire(stream, self._retention_s)
        pipe.publish(self._keys.notices, job_id)
        return as_text(pipe.execute()[0])

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
