"""Following one job's events for an SSE or WebSocket connection.

A connection registers with the hub *first*, then reads the stream after the
client's last event id, sends, and waits for the next notice. Because the
watch exists before the first read, an event appended between the snapshot
and the wait still wakes it: nothing is missed, nothing is sent twice.

While it waits a connection holds no Redis connection: it waits on its hub
watch, and borrows a pooled connection only for each non-blocking ``XRANGE``.
A notice wakes every follower of its job at once, so ``EventFeed`` lets the
followers that ask for the same events under the same notice share one read:
a job with hundreds of followers costs one pooled connection per notice.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator

from visiovox.api.errors import ApiError
from visiovox.api.hub import NoticeHub
from visiovox.jobs.model import Job, JobEvent
from visiovox.jobs.reader import READ_BATCH, JobReader

_STREAM_ID = re.compile(r"([0-9]{1,20})(?:-([0-9]{1,20}))?")
# A Redis stream id is two unsigned 64-bit numbers; no event can follow the largest one.
_U64_MAX = 2**64 - 1


def check_event_id(value: str | None) -> str:
    """A client's ``Last-Event-ID`` / ``after`` as a stream id ("0" when absent).

    400 ``invalid_event_id`` unless it is ``<ms>`` or ``<ms>-<seq>``, each below 2^64.
    """
    if not value:
        return "0"
    match = _STREAM_ID.fullmatch(value)
    parts = [int(part) for part in match.groups("0")] if match else []
    if not parts or max(parts) > _U64_MAX or parts == [_U64_MAX, _U64_MAX]:
        raise ApiError(
            400,
            "invalid_event_id",
            f"{value[:64]!r} is not an event id (like 1712-0: two numbers below 2^64)",
        )
    return value


# (job id, read after, hub generation): the reads one notice makes identical.
_ReadKey = tuple[str, str, int]


class EventFeed:
    """The followers of job events in one gateway process: the hub and shared reads."""

    def __init__(self, *, hub: NoticeHub, reader: JobReader) -> None:
        self.hub = hub
        self._reader = reader
        self._reads: dict[_ReadKey, asyncio.Task[list[JobEvent]]] = {}

    def in_flight(self) -> int:
        """Stream reads running now (for tests and benchmarks)."""
        return len(self._reads)

    async def read_after(self, job_id: str, after: str) -> list[JobEvent]:
        """Up to ``READ_BATCH`` events of ``job_id`` after ``after``; shared, do not mutate.

        Joins a read of the same events only when it was sent under the hub's
        current generation of the job, that is after every notice that woke its
        watchers: the shared answer is then as fresh as a read of one's own.
        """
        key = (job_id, after, self.hub.generation(job_id))
        read = self._reads.get(key)
        if read is None:
            read = asyncio.create_task(self._read(key))
            self._reads[key] = read
            read.add_done_callback(lambda done: self._forget(key, done))
        # One follower leaving (a cancel) must not cancel the others' read.
        return await asyncio.shield(read)

    async def _read(self, key: _ReadKey) -> list[JobEvent]:
        try:
            return await self._reader.read_after(key[0], key[1])
        finally:
            # Before the result is set: nobody may join a read that has answered.
            self._reads.pop(key, None)

    def _forget(self, key: _ReadKey, read: asyncio.Task[list[JobEvent]]) -> None:
        # A read cancelled before it ran never reached its ``finally``.
        if self._reads.get(key) is read:
            del self._reads[key]
        # A read whose followers all left still finishes: take its outcome, so
        # an error is not reported as "never retrieved".
        if not read.cancelled():
            read.exception()

    async def follow(
        self, *, job: Job, after: str, keepalive_s: float
    ) -> AsyncGenerator[list[JobEvent], None]:
        """Batches of new events, in order; an empty batch after ``keepalive_s`` of quiet.

        Ends after the batch holding a terminal event, or at once when the job
        was already terminal and the client has seen everything.
        """
        last = after
        with self.hub.watch(job.id) as watch:
            first = True
            while True:
                watch.clear()
                events = await self.read_after(job.id, last)
                if events:
                    yield events
                    last = events[-1].id
                    if any(event.type.is_terminal for event in events):
                        return
                    if len(events) == READ_BATCH:
                        continue
                elif first and job.status.is_terminal:
                    return
                first = False
                if not await watch.wait(keepalive_s):
                    yield []
