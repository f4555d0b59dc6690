"""One Redis pub/sub subscription per gateway process, fanned out to its event connections.

Workers ``PUBLISH`` a job id on the notice channel after every event. The hub
reads that channel and sets an ``asyncio.Event`` on each connection watching
the job: setting an event never blocks, so a slow client cannot hold up the
hub or anyone else. Pub/sub is at-most-once, so a notice only says "read the
stream again"; the stream is the record. When the subscription drops the hub
resubscribes with backoff and then wakes every watcher, since notices may have
been lost while it was away.

The hub also stamps each watched job with the number of the last notice that
woke its watchers (``generation``), so the feed lets followers of one job
share a read only when it was sent after the notice that woke them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Iterator

import redis.asyncio
import redis.exceptions

log = logging.getLogger(__name__)

# How long one read of the subscription waits; bounds how fast ``stop`` returns.
_POLL_S = 1.0


class Watch:
    """One connection's interest in one job: set when a notice for it arrives."""

    __slots__ = ("_event", "job_id")

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    def clear(self) -> None:
        """Forget earlier notices; call before reading the stream so none is missed."""
        self._event.clear()

    async def wait(self, timeout_s: float) -> bool:
        """Wait for a notice; False when ``timeout_s`` passed without one."""
        if self._event.is_set():
            return True
        try:
            await asyncio.wait_for(self._event.wait(), timeout_s)
        except TimeoutError:
            return False
        return True


class NoticeHub:
    """Holds the notice subscription and the watches of the connections it serves."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        channel: str,
        backoff_min_s: float = 0.05,
        backoff_max_s: float = 2.0,
    ) -> None:
        self._redis = client
        self._channel = channel
        self._backoff_min_s = backoff_min_s
        self._backoff_max_s = backoff_max_s
        self._watches: dict[str, set[Watch]] = {}
        self._generations: dict[str, int] = {}
        # Never reused, so a job watched again does not get an earlier stamp back.
        self._notices = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._subscribed = asyncio.Event()

    @property
    def subscribed(self) -> bool:
        return self._subscribed.is_set()

    async def wait_subscribed(self, timeout_s: float) -> bool:
        try:
            await asyncio.wait_for(self._subscribed.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="visiovox-notice-hub")

    async def stop(self) -> None:
        """End the subscription task.

        redis-py reads the subscription under a timeout, and a cancel that lands as
        that timeout fires can come out as the timeout instead (the race described
        in aio-libs/async-timeout#229; seen here as a hung shutdown). So the loop
        also checks a flag, and the cancel is repeated until the task ends.
        """
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    @contextlib.contextmanager
    def watch(self, job_id: str) -> Iterator[Watch]:
        """Register interest in ``job_id`` for the duration of the block."""
        watch = Watch(job_id)
        self._watches.setdefault(job_id, set()).add(watch)
        if job_id not in self._generations:
            self._generations[job_id] = next(self._notices)
        try:
            yield watch
        finally:
            watchers = self._watches.get(job_id)
            if watchers is not None:
                watchers.discard(watch)
                if not watchers:
                    del self._watches[job_id]
                    del self._generations[job_id]

    def watching(self) -> int:
        """How many connections are registered (for tests and metrics)."""
        return sum(len(w) for w in self._watches.values())

    def generation(self, job_id: str) -> int:
        """A stamp that changes whenever a notice wakes the watchers of ``job_id``.

        A stream read sent under the current stamp sees every event whose notice
        has woken them: Redis ran each ``XADD`` before its ``PUBLISH``. 0: unwatched.
        """
        return self._generations.get(job_id, 0)

    def _notify(self, job_id: str) -> None:
        watchers = self._watches.get(job_id)
        if watchers:
            self._generations[job_id] = next(self._notices)
            for watch in watchers:
                watch.notify()

    def _notify_all(self) -> None:
        for job_id, watchers in self._watches.items():
            self._generations[job_id] = next(self._notices)
            for watch in watchers:
                watch.notify()

    async def _run(self) -> None:
        backoff = self._backoff_min_s
        while not self._stopping:
            try:
                await self._listen()
            except (redis.exceptions.RedisError, OSError) as exc:
                if self._subscribed.is_set():
                    log.warning("notice subscription lost (%s); resubscribing", exc)
                    backoff = self._backoff_min_s
                self._subscribed.clear()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._backoff_max_s)

    async def _listen(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._channel)
            self._subscribed.set()
            log.debug("subscribed to %s", self._channel)
            # Notices published while unsubscribed are gone: make every watcher re-read.
            self._notify_all()
            while not self._stopping:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=_POLL_S)
                if message is not None and message.get("type") == "message":
                    data = message["data"]
                    self._notify(data.decode() if isinstance(data, bytes) else str(data))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
