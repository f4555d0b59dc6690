"""Reading jobs and their event streams on an asyncio client: what clients may see.

The gateway reads through it on its event loop (a job, a caller's page of
jobs, a stream after an event id), and so do the tests. A job belongs to its
owner: reading another owner's job answers None, so ids do not leak. The
worker and the janitor read records through ``JobStore.get`` on their threads'
client.
"""

from __future__ import annotations

from typing import Any, cast

import redis.asyncio

from visiovox.jobs.events import decode_event, stream_start
from visiovox.jobs.keys import RedisKeys, as_text
from visiovox.jobs.model import Job, JobEvent, JobStatus
from visiovox.jobs.records import JobPage, decode_job

# Bounds what one stream read holds in memory; a longer backlog is read in batches.
READ_BATCH = 500
# Owner-index entries read per round trip while filling a page.
_INDEX_BATCH = 50


class JobReader:
    """Job records, owner pages and event streams, read without leaving the event loop."""

    def __init__(self, client: redis.asyncio.Redis, *, keys: RedisKeys) -> None:
        self._redis = client
        self._keys = keys

    async def get(self, job_id: str) -> Job | None:
        raw = await self._redis.hgetall(self._keys.job(job_id))
        return decode_job(raw) if raw else None

    async def get_for_owner(self, job_id: str, owner: str) -> Job | None:
        """The job if it exists and belongs to ``owner`` (else None, so ids do not leak).

        A segment of a split job (``jobs/segments.py``) is the fleet's, not the owner's:
        None too; its parent is the one job the owner sees.
        """
        job = await self.get(job_id)
        if job is None or job.owner != owner or job.parent_id is not None:
            return None
        return job

    async def list_for_owner(
        self,
        owner: str,
        *,
        status: JobStatus | None = None,
        pipeline: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> JobPage:
        """The owner's jobs, newest first; ``cursor`` continues a previous page.

        Index entries whose job has expired are dropped from the index on the way.
        """
        index = self._keys.owner_index(owner)
        upper: str = f"({cursor}" if cursor else "+inf"
        found: list[Job] = []
        while len(found) < limit:
            batch = cast(
                "list[tuple[Any, float]]",
                await self._redis.zrevrangebyscore(
                    index, upper, "-inf", start=0, num=max(limit, _INDEX_BATCH), withscores=True
                ),
            )
            if not batch:
                return JobPage(jobs=found, next_cursor=None)
            async with self._redis.pipeline(transaction=False) as pipe:
                for member, _score in batch:
                    pipe.hgetall(self._keys.job(as_text(member)))
                records = await pipe.execute()
            for (member, score), raw in zip(batch, records, strict=True):
                upper = f"({score!r}"
                if not raw:
                    await self._redis.zrem(index, member)
                    continue
                job = decode_job(raw)
                if (status is None or job.status == status) and (
                    pipeline is None or job.pipeline == pipeline
                ):
                    found.append(job)
                    if len(found) == limit:
                        return JobPage(jobs=found, next_cursor=upper[1:])
        return JobPage(jobs=found, next_cursor=None)

    async def read_after(
        self, job_id: str, after: str, *, count: int = READ_BATCH
    ) -> list[JobEvent]:
        """Up to ``count`` events with an id greater than ``after``, oldest first."""
        # redis-py types XRANGE loosely (None members); on a stream it is a list of pairs.
        entries = cast(
            "list[tuple[bytes, dict[bytes, bytes]]]",
            await self._redis.xrange(
                self._keys.events(job_id), min=stream_start(after), count=count
            ),
        )
        return [decode_event(entry_id, fields) for entry_id, fields in entries]
