"""The job record on Redis: creation, owner index, claims with a lease, transitions.

Each job is a hash whose fields are JSON values. Every state change that a
client can observe runs as one Lua script (``jobs/scripts.py``) that also
appends its event and counts it, so a transition, its event and its
statistics land together or not at all.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis
import redis.asyncio
from redis.commands.core import AsyncScript

from visiovox.jobs import scripts
from visiovox.jobs.events import EventLog
from visiovox.jobs.idempotency import IdempotencyEntry
from visiovox.jobs.keys import RedisKeys, as_text
from visiovox.jobs.model import Job, JobError, JobStatus, OutputFile, Progress
from visiovox.jobs.queues import Route, priority_list, private_queue, queue_lists
from visiovox.jobs.records import (
    Claim,
    ClaimOutcome,
    JobPage,
    QueueFull,
    decode_job,
    encode_fields,
)
from visiovox.jobs.task_message import run_job_message


def _routed(job: Job, route: Route | None) -> Job:
    """``job`` with the queue, device class and priority of its route."""
    if route is None:
        return job
    return job.model_copy(
        update={
            "queue": route.queue,
            "device_class": route.device_class.value,
            "priority": route.priority,
        }
    )


def _worker_lost_error(max_attempts: int) -> str:
    message = f"the job's worker was lost {max_attempts} times; giving up"
    return JobError(code="worker_lost", message=message).model_dump_json()


def _first_job_id(raw: Any, *, digest: str | None) -> str | None:
    """The job an idempotency entry names; ``IdempotencyConflict`` for another request."""
    if not raw:
        return None
    return IdempotencyEntry.decode(as_text(raw)).replay_or_conflict(digest=digest)


def _owned(job: Job | None, owner: str) -> Job | None:
    """``job`` when ``owner`` owns it: a replay never answers with another owner's job."""
    return job if job is not None and job.owner == owner else None


class JobStore:
    """Reads and changes job records; every transition appends its event."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        keys: RedisKeys,
        events: EventLog,
        retention_s: int,
        lease_s: float,
        max_attempts: int,
    ) -> None:
        self._redis = client
        self._keys = keys
        self._events = events
        self._retention_s = retention_s
        self._lease_ms = int(lease_s * 1000)
        self._max_attempts = max_attempts
        self._create = client.register_script(scripts.CREATE)
        self._async_creates: dict[int, AsyncScript] = {}
        self._claim = client.register_script(scripts.CLAIM)
        self._renew = client.register_script(scripts.RENEW)
        self._release = client.register_script(scripts.RELEASE)
        self._finish = client.register_script(scripts.FINISH)
        self._cancel = client.register_script(scripts.CANCEL)
        self._requeue = client.register_script(scripts.REQUEUE)

    @property
    def events(self) -> EventLog:
        return self._events

    @property
    def lease_s(self) -> float:
        return self._lease_ms / 1000

    def _event_args(self, job_id: str) -> list[Any]:
        return [self._keys.notices, self._events.maxlen, self._retention_s, job_id]

    def create(
        self,
        job: Job,
        *,
        idempotency_key: str | None = None,
        request_digest: str | None = None,
        route: Route | None = None,
        max_queued: int = 0,
    ) -> tuple[Job, bool]:
        """Store a new queued job and, with ``route``, push its task in the same script.

        Returns (job, created); a repeated idempotency key returns the first job
        of the same owner, or raises ``IdempotencyConflict`` when ``request_digest``
        differs from the first request's. Raises ``QueueFull`` when the pipeline
        already has ``max_queued`` queued jobs (0: no cap).
        """
        if idempotency_key:
            idem = self._keys.idempotency(job.owner, idempotency_key)
            entry = IdempotencyEntry(job_id=job.id, digest=request_digest).encode()
            if not self._redis.set(idem, entry, nx=True, ex=self._retention_s):
                first_id = _first_job_id(self._redis.get(idem), digest=request_digest)
                existing = _owned(self.get(first_id) if first_id else None, job.owner)
                if existing is not None:
                    return existing, False
                self._redis.set(idem, entry, ex=self._retention_s)
        job = _routed(job, route)
        keys, args = self._create_call(job, route=route, max_queued=max_queued)
        reply = self._create(keys=keys, args=args)
        return self._created(job, reply, idempotency_key=idempotency_key, cap=max_queued), True

    async def create_async(
        self,
        client: redis.asyncio.Redis,
        job: Job,
        *,
        idempotency_key: str | None = None,
        request_digest: str | None = None,
        route: Route | None = None,
        max_queued: int = 0,
    ) -> tuple[Job, bool]:
        """``create`` on an asyncio client: the gateway's hot path, with no thread hop."""
        if idempotency_key:
            idem = self._keys.idempotency(job.owner, idempotency_key)
            entry = IdempotencyEntry(job_id=job.id, digest=request_digest).encode()
            if not await client.set(idem, entry, nx=True, ex=self._retention_s):
                first_id = _first_job_id(await client.get(idem), digest=request_digest)
                raw = await client.hgetall(self._keys.job(first_id)) if first_id else {}
                existing = _owned(decode_job(raw) if raw else None, job.owner)
                if existing is not None:
                    return existing, False
                await client.set(idem, entry, ex=self._retention_s)
        script = self._async_creates.get(id(client))
        if script is None:
            script = self._async_creates[id(client)] = client.register_script(scripts.CREATE)
        job = _routed(job, route)
        keys, args = self._create_call(job, route=route, max_queued=max_queued)
        reply = await script(keys=keys, args=args)
        if idempotency_key and as_text(reply[0]) == "full":
            await client.delete(self._keys.idempotency(job.owner, idempotency_key))
        return self._created(job, reply, idempotency_key=None, cap=max_queued), True

    def _created(self, job: Job, reply: list[Any], *, idempotency_key: str | None, cap: int) -> Job:
        """The job as stored, from the create script's reply; ``QueueFull`` when it was full."""
        outcome, detail = as_text(reply[0]), reply[1]
        if outcome == "full":
            if idempotency_key:
                self._redis.delete(self._keys.idempotency(job.owner, idempotency_key))
            raise QueueFull(job.pipeline, depth=int(detail), cap=cap)
        queue = as_text(detail)
        return job.model_copy(update={"queue": queue}) if queue and queue != job.queue else job

    def _create_call(
        self, job: Job, *, route: Route | None, max_queued: int
    ) -> tuple[list[str], list[str | int | float]]:
        """Keys and args of the create script: record, index, ``queued`` event, task."""
        keys = [
            self._keys.job(job.id),
            self._keys.owner_index(job.owner),
            self._keys.owners,
            self._keys.events(job.id),
            self._keys.stats,
            self._keys.queued(job.pipeline),
        ]
        args: list[str | int | float] = [
            json.dumps(encode_fields(job.model_dump(mode="json"))),
            self._retention_s,
            repr(job.created_at),
            job.id,
            job.owner,
            self._keys.notices,
            self._events.maxlen,
            repr(time.time()),
            job.pipeline,
            max_queued,
            job.priority.value,
        ]
        if route is not None:
            step = route.priority.step
            keys.append(priority_list(route.queue, route.priority))
            args += [route.queue, run_job_message(job.id, queue=route.queue, priority=step)]
            if route.worker is not None:
                keys.append(priority_list(route.shared, route.priority))
                keys.append(self._keys.worker(route.worker))
                keys += queue_lists(private_queue(route.worker))
                args += [route.shared, run_job_message(job.id, queue=route.shared, priority=step)]
        return keys, args

    def get(self, job_id: str) -> Job | None:
        raw = self._redis.hgetall(self._keys.job(job_id))
        return decode_job(raw) if raw else None

    def get_for_owner(self, job_id: str, owner: str) -> Job | None:
        """The job if it exists and belongs to ``owner`` (else None, so ids do not leak)."""
        job = self.get(job_id)
        return job if job is not None and job.owner == owner else None

    def list_for_owner(
        self,
        owner: str,
        *,
        status: JobStatus | None = None,
        pipeline: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> JobPage:
        """The owner's jobs, newest first; ``cursor`` continues a previous page."""
        index = self._keys.owner_index(owner)
        upper: str = f"({cursor}" if cursor else "+inf"
        found: list[Job] = []
        while len(found) < limit:
            batch: list[tuple[Any, float]] = self._redis.zrevrangebyscore(  # type: ignore[assignment]
                index, upper, "-inf", start=0, num=max(limit, 50), withscores=True
            )
            if not batch:
                return JobPage(jobs=found, next_cursor=None)
            for member, score in batch:
                upper = f"({score!r}"
                job = self.get(as_text(member))
                if job is None:
                    self._redis.zrem(index, member)
                    continue
                if (status is None or job.status == status) and (
                    pipeline is None or job.pipeline == pipeline
                ):
                    found.append(job)
                    if len(found) == limit:
                        return JobPage(jobs=found, next_cursor=upper[1:])
        return JobPage(jobs=found, next_cursor=None)

    def claim(self, job_id: str, worker: str) -> Claim:
        """Atomically start the job on ``worker`` unless it is terminal or leased."""
        reply: list[Any] = self._claim(
            keys=[
                self._keys.job(job_id),
                self._keys.lease(job_id),
                self._keys.running,
                self._keys.events(job_id),
                self._keys.stats,
            ],
            args=[
                worker,
                self._lease_ms,
                self._max_attempts,
                repr(time.time()),
                *self._event_args(job_id),
                _worker_lost_error(self._max_attempts),
                self._keys.queued_prefix,
            ],
        )
        outcome, attempt = reply
        return Claim(outcome=ClaimOutcome(as_text(outcome)), attempt=int(attempt))

    def renew_lease(self, job_id: str, worker: str) -> bool:
        """Extend the lease if ``worker`` still holds it."""
        return bool(self._renew(keys=[self._keys.lease(job_id)], args=[worker, self._lease_ms]))

    def release_lease(self, job_id: str, worker: str) -> bool:
        """Give up ``worker``'s lease (a worker stopping mid-job): the janitor re-dispatches."""
        return bool(self._release(keys=[self._keys.lease(job_id)], args=[worker]))

    def set_progress(self, job_id: str, progress: Progress) -> None:
        self._redis.hset(self._keys.job(job_id), "progress", progress.model_dump_json())

    def finish(
        self,
        job_id: str,
        *,
        worker: str,
        status: JobStatus,
        outputs: list[OutputFile] | None = None,
        result: dict[str, Any] | None = None,
        error: JobError | None = None,
        progress: Progress | None = None,
    ) -> bool:
        """Make the job terminal if ``worker`` still owns it; returns whether it did."""
        fields: dict[str, Any] = {}
        if outputs is not None:
            fields["outputs"] = [o.model_dump(mode="json") for o in outputs]
        if result is not None:
            fields["result"] = result
        if error is not None:
            fields["error"] = error.model_dump(mode="json")
        if progress is not None:
            fields["progress"] = progress.model_dump(mode="json")
        event_data: dict[str, Any] = {}
        if error is not None:
            event_data = error.model_dump(mode="json")
        elif outputs is not None:
            event_data = {"outputs": [o.name for o in outputs]}
        done = self._finish(
            keys=[
                self._keys.job(job_id),
                self._keys.lease(job_id),
                self._keys.running,
                self._keys.events(job_id),
                self._keys.stats,
            ],
            args=[
                worker,
                status.value,
                json.dumps(encode_fields(fields)),
                repr(time.time()),
                *self._event_args(job_id),
                json.dumps(event_data),
            ],
        )
        return bool(done)

    def request_cancel(self, job_id: str) -> str:
        """Cancel a queued job at once, or flag a running one; returns what happened."""
        outcome = self._cancel(
            keys=[
                self._keys.job(job_id),
                self._keys.running,
                self._keys.events(job_id),
                self._keys.stats,
            ],
            args=[repr(time.time()), *self._event_args(job_id), self._keys.queued_prefix],
        )
        return as_text(outcome)

    def is_cancel_requested(self, job_id: str) -> bool:
        return self._redis.hget(self._keys.job(job_id), "cancel_requested") == b"true"

    def requeue_if_lease_expired(self, job_id: str) -> str:
        """Put a running job whose lease expired back to queued (or fail it past its attempts)."""
        outcome = self._requeue(
            keys=[
                self._keys.job(job_id),
                self._keys.lease(job_id),
                self._keys.running,
                self._keys.events(job_id),
                self._keys.stats,
            ],
            args=[
                repr(time.time()),
                *self._event_args(job_id),
                self._max_attempts,
                _worker_lost_error(self._max_attempts),
                self._keys.queued_prefix,
            ],
        )
        return as_text(outcome)

    def running_job_ids(self) -> list[str]:
        return [as_text(m) for m in self._redis.zrange(self._keys.running, 0, -1)]

    def queued_count(self, pipeline: str) -> int:
        """Jobs of ``pipeline`` waiting for a worker (what its queue-depth cap counts)."""
        return int(self._redis.zcard(self._keys.queued(pipeline)))

    def queued_created_before(
        self, pipelines: list[str], cutoff: float, *, limit: int
    ) -> list[str]:
        """Up to ``limit`` queued jobs per pipeline created before ``cutoff``, oldest first."""
        pipe = self._redis.pipeline(transaction=False)
        for pipeline in pipelines:
            pipe.zrangebyscore(self._keys.queued(pipeline), "-inf", cutoff, start=0, num=limit)
        return [as_text(member) for members in pipe.execute() for member in members]

    def prune_queued(self, pipelines: list[str], older_than: float) -> int:
        """Drop queued-set entries of jobs created before ``older_than`` (they have expired)."""
        pipe = self._redis.pipeline(transaction=False)
        for pipeline in pipelines:
            pipe.zremrangebyscore(self._keys.queued(pipeline), "-inf", older_than)
        return sum(int(n) for n in pipe.execute())

    def prune_owner_indexes(self, older_than: float) -> int:
        """Drop index entries of jobs created before ``older_than`` (they have expired)."""
        removed = 0
        for owner in self._redis.smembers(self._keys.owners):
            removed += int(
                self._redis.zremrangebyscore(
                    self._keys.owner_index(as_text(owner)), "-inf", older_than
                )
            )
        return removed
