"""The job record on Redis: creation, claims with a lease, transitions, cancel.

Each job is a hash whose fields are JSON values. Every state change that a
client can observe runs as one Lua script (``jobs/scripts.py``, which also
declares each script's arguments) that also appends its event and counts it,
so a transition, its event and its statistics land together or not at all.
Creating runs on the event loop's client (the gateway's, and the tests'); the
worker's transitions run on its threads' client. Reads for clients are
``jobs/reader.py``'s.
"""

from __future__ import annotations

import time
from typing import Any

import redis
import redis.asyncio
from redis.commands.core import AsyncScript

from visiovox.jobs import create_script, scripts
from visiovox.jobs.events import EventLog
from visiovox.jobs.idempotency import IdempotencyEntry
from visiovox.jobs.keys import RedisKeys, as_text
from visiovox.jobs.model import Job, JobError, JobStatus, OutputFile, Progress
from visiovox.jobs.queues import Route
from visiovox.jobs.quotas import Admission, QuotaExceeded
from visiovox.jobs.ratelimit import Bucket, RateLimited, Verdict
from visiovox.jobs.records import Claim, ClaimOutcome, QueueFull, decode_job


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


def _first_job_id(raw: Any, *, digest: str | None) -> str | None:
    """The job an idempotency entry names; ``IdempotencyConflict`` for another request."""
    if not raw:
        return None
    return IdempotencyEntry.decode(as_text(raw)).replay_or_conflict(digest=digest)


class JobStore:
    """Creates job records and changes them; every transition appends its event."""

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
        self._sink = scripts.EventSink(
            channel=keys.notices, maxlen=events.maxlen, ttl_s=retention_s
        )
        self._lease_ms = int(lease_s * 1000)
        self._max_attempts = max_attempts
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
    def retention_s(self) -> int:
        return self._retention_s

    @property
    def lease_s(self) -> float:
        return self._lease_ms / 1000

    async def create(
        self,
        client: redis.asyncio.Redis,
        job: Job,
        *,
        idempotency_key: str | None = None,
        request_digest: str | None = None,
        route: Route | None = None,
        max_queued: int = 0,
        admission: Admission | None = None,
        submits: Bucket | None = None,
        identity: str = "",
    ) -> tuple[Job, bool]:
        """Store a new queued job and, with ``route``, push its task in the same script.

        Returns (job, created); a repeated idempotency key returns the first job
        of the same owner, or raises ``IdempotencyConflict`` when ``request_digest``
        differs from the first request's. Raises ``QueueFull`` when the pipeline
        already has ``max_queued`` queued jobs (0: no cap), ``QuotaExceeded`` when
        ``admission`` finds the owner at a cap, ``RateLimited`` when ``identity``'s
        ``submits`` bucket is empty.
        """
        if idempotency_key:
            idem = self._keys.idempotency(job.owner, idempotency_key)
            entry = IdempotencyEntry(job_id=job.id, digest=request_digest).encode()
            if not await client.set(idem, entry, nx=True, ex=self._retention_s):
                first_id = _first_job_id(await client.get(idem), digest=request_digest)
                raw = await client.hgetall(self._keys.job(first_id)) if first_id else {}
                existing = decode_job(raw) if raw else None
                # A replay never answers with another owner's job.
                if existing is not None and existing.owner == job.owner:
                    return existing, False
                await client.set(idem, entry, ex=self._retention_s)
        script = self._async_creates.get(id(client))
        if script is None:
            script = self._async_creates[id(client)] = client.register_script(create_script.CREATE)
        job = _routed(job, route)
        call = create_script.create_call(
            keys=self._keys,
            job=job,
            route=route,
            max_queued=max_queued,
            sink=self._sink,
            now=time.time(),
            admission=admission,
            submits=submits,
            identity=identity,
        )
        outcome, detail, *more = await script(keys=call.keys, args=call.args)
        outcome = as_text(outcome)
        if outcome != "created":
            if idempotency_key:
                await client.delete(self._keys.idempotency(job.owner, idempotency_key))
            if outcome == "quota":
                raise QuotaExceeded(as_text(detail), count=int(more[0]), cap=int(more[1]))
            if outcome == "rate":
                limit = submits.burst if submits else 0
                raise RateLimited(Verdict.from_reply([0, detail, *more], limit=limit))
            raise QueueFull(job.pipeline, depth=int(detail), cap=max_queued)
        queue = as_text(detail)
        if queue and queue != job.queue:
            job = job.model_copy(update={"queue": queue})
        return job, True

    def get(self, job_id: str) -> Job | None:
        raw = self._redis.hgetall(self._keys.job(job_id))
        return decode_job(raw) if raw else None

    def _run(self, script: Any, call: scripts.ScriptCall) -> Any:
        return script(keys=call.keys, args=call.args)

    def claim(self, job_id: str, worker: str) -> Claim:
        """Atomically start the job on ``worker`` unless it is terminal or leased."""
        call = scripts.claim_call(
            keys=self._keys,
            job_id=job_id,
            worker=worker,
            lease_ms=self._lease_ms,
            max_attempts=self._max_attempts,
            sink=self._sink,
            now=time.time(),
        )
        outcome, attempt = self._run(self._claim, call)
        return Claim(outcome=ClaimOutcome(as_text(outcome)), attempt=int(attempt))

    def renew_lease(self, job_id: str, worker: str) -> bool:
        """Extend the lease if ``worker`` still holds it."""
        call = scripts.renew_call(
            keys=self._keys, job_id=job_id, worker=worker, lease_ms=self._lease_ms
        )
        return bool(self._run(self._renew, call))

    def release_lease(self, job_id: str, worker: str) -> bool:
        """Give up ``worker``'s lease (a worker stopping mid-job): the janitor re-dispatches."""
        call = scripts.release_call(keys=self._keys, job_id=job_id, worker=worker)
        return bool(self._run(self._release, call))

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
        call = scripts.finish_call(
            keys=self._keys,
            job_id=job_id,
            worker=worker,
            status=status.value,
            fields=fields,
            event_data=event_data,
            sink=self._sink,
            now=time.time(),
        )
        return bool(self._run(self._finish, call))

    def request_cancel(self, job_id: str) -> str:
        """Cancel a queued job at once, or flag a running one; returns what happened."""
        call = scripts.cancel_call(keys=self._keys, job_id=job_id, sink=self._sink, now=time.time())
        return as_text(self._run(self._cancel, call))

    def is_cancel_requested(self, job_id: str) -> bool:
        return self._redis.hget(self._keys.job(job_id), "cancel_requested") == b"true"

    def requeue_if_lease_expired(self, job_id: str) -> str:
        """Put a running job whose lease expired back to queued (or fail it past its attempts)."""
        call = scripts.requeue_call(
            keys=self._keys,
            job_id=job_id,
            max_attempts=self._max_attempts,
            sink=self._sink,
            now=time.time(),
        )
        return as_text(self._run(self._requeue, call))

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
