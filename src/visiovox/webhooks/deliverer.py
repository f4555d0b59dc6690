"""The delivery loop: whichever gateway process holds the outbox lease sends what is due.

Every gateway process runs one ``WebhookDeliverer``; one of them holds
``webhook:lease`` (``outbox.py``) and delivers, the others look again every
``webhooks.poll_s`` and take over once a dead holder's lease lapses
(``webhooks.lease_s``). The holder wakes on the ``webhooks`` notice the
enqueueing scripts publish (read by the gateway's notice hub, so the loop holds
no subscription of its own), and otherwise when the next retry is due. Each delivery
runs as its own task, at most ``webhooks.max_concurrency`` at once, so a slow
receiver holds one slot for at most ``webhooks.timeout_s`` and never a worker.

A delivery's body is ``{"type": "job.<event>", "timestamp", "data"}``, where
``data`` is the job as ``GET /v1/jobs/{id}`` shows it (``render``, given by the
gateway, with absolute output URLs), read when it is sent; a delivery of a job
that has expired since is given up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

import redis.asyncio
from redis.exceptions import RedisError

from visiovox.config_webhooks import WebhookSettings
from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.model import Job
from visiovox.jobs.records import decode_job
from visiovox.jobs.webhook_outbox import WAKE_NOTICE
from visiovox.webhooks.client import Attempt, WebhookClient
from visiovox.webhooks.outbox import Delivery, DeliveryStatus, Outbox, Outcome
from visiovox.webhooks.retry import backoff_s, is_retried
from visiovox.webhooks.secrets import SigningSecrets
from visiovox.webhooks.signing import signed_headers
from visiovox.webhooks.target import public_url

log = logging.getLogger(__name__)

Render = Callable[[Job], dict[str, Any]]
# Seconds past a send's timeout before a taken delivery is due again (its sender died).
IN_FLIGHT_MARGIN_S = 5.0


class Waiter(Protocol):
    """A watch on one notice (``api/hub.py``'s ``Watch``)."""

    def clear(self) -> None: ...

    async def wait(self, timeout_s: float) -> bool: ...


class Notices(Protocol):
    """Where notices are watched (``api/hub.py``'s ``NoticeHub``)."""

    def watch(self, job_id: str) -> AbstractContextManager[Waiter]: ...


def _now_iso() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class WebhookDeliverer:
    """Holds (or waits for) the outbox lease and sends due deliveries, bounded and retried."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        keys: RedisKeys,
        settings: WebhookSettings,
        outbox: Outbox,
        secrets: SigningSecrets,
        sender: WebhookClient,
        render: Render,
        notices: Notices,
    ) -> None:
        self._redis = client
        self._notices = notices
        self._keys = keys
        self._settings = settings
        self._outbox = outbox
        self._secrets = secrets
        self._sender = sender
        self._render = render
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._sending: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run()), asyncio.create_task(self._listen())]

    async def stop(self) -> None:
        """Stop sending and hand the lease on (a send cut short is sent again by the next).

        A cancel that lands as a timeout fires can come out as the timeout
        (``api/hub.py``'s ``stop`` has the story): the loops also check a flag,
        and the cancel is repeated until every task has ended.
        """
        self._stopping = True
        tasks = [*self._tasks, *self._sending]
        while not all(task.done() for task in tasks):
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks, timeout=0.1)
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(RedisError, OSError):
            await self._outbox.release_lease(self._holder)
        await self._sender.aclose()

    async def _run(self) -> None:
        cap_s = min(self._settings.poll_s, self._settings.lease_s / 3)
        while not self._stopping:
            self._wake.clear()
            try:
                await self._secrets.deployment()
                held = await self._outbox.hold_lease(self._holder, lease_s=self._settings.lease_s)
                wait_s = await self._send_due(cap_s) if held else cap_s
            except (RedisError, OSError) as exc:
                log.warning("webhook outbox unavailable: %s", exc)
                wait_s = cap_s
            if wait_s > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait_s)

    async def _listen(self) -> None:
        """Sets ``_wake`` whenever a delivery is enqueued (pub/sub: a miss waits for the poll)."""
        with self._notices.watch(WAKE_NOTICE) as watch:
            while not self._stopping:
                if await watch.wait(self._settings.poll_s):
                    watch.clear()
                    self._wake.set()

    async def _send_due(self, cap_s: float) -> float:
        """Start the due deliveries there are slots for; seconds until the loop looks again."""
        free = self._settings.max_concurrency - len(self._sending)
        if free <= 0:
            return cap_s  # a finishing send wakes the loop
        now = time.time()
        until = now + self._settings.timeout_s + IN_FLIGHT_MARGIN_S
        taken = await self._outbox.take_due(self._holder, now=now, limit=free, until=until)
        for delivery_id in taken:
            task = asyncio.create_task(self._deliver(delivery_id))
            self._sending.add(task)
            task.add_done_callback(self._sent)
        if len(taken) == free:
            return 0.0
        next_at = await self._outbox.next_due_at()
        return cap_s if next_at is None else min(cap_s, max(0.0, next_at - time.time()))

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._wake.set()

    async def _deliver(self, delivery_id: str) -> None:
        try:
            delivery = await self._outbox.load(delivery_id)
            if delivery is None or delivery.status is not DeliveryStatus.PENDING:
                await self._redis.zrem(self._keys.webhook_due, delivery_id)
                return
            raw = await self._redis.hgetall(self._keys.job(delivery.job_id))
            job = decode_job(raw) if raw else None
            if job is None or job.webhook is None:
                gone = Attempt(None, 0.0, error="the job expired", refused=True)
                await self._record(delivery, gone)
                return
            await self._record(delivery, await self._send(delivery, job))
        except (RedisError, OSError) as exc:
            # Left in the outbox: due again once its in-flight time has passed.
            log.warning("webhook delivery %s: outbox unavailable: %s", delivery_id, exc)

    async def _send(self, delivery: Delivery, job: Job) -> Attempt:
        assert job.webhook is not None
        payload = {"type": f"job.{delivery.event}", "timestamp": _now_iso()}
        body = json.dumps({**payload, "data": self._render(job)}).encode()
        secret = await self._secrets.for_key(job.webhook_key)
        headers = signed_headers(secret, msg_id=delivery.id, timestamp=int(time.time()), body=body)
        attempt = await self._sender.post(job.webhook, body=body, headers=headers)
        if not attempt.ok:
            log.info(
                "webhook %s to %s: %s",
                delivery.id,
                public_url(job.webhook),
                attempt.status_code or attempt.error,
            )
        return attempt

    async def _record(self, delivery: Delivery, attempt: Attempt) -> None:
        number = delivery.attempts + 1
        next_at: float | None = None
        if attempt.ok:
            outcome = Outcome.DELIVERED
        elif (
            attempt.refused
            or not is_retried(attempt.status_code)
            or number >= self._settings.max_attempts
        ):
            outcome = Outcome.FAILED
        else:
            outcome = Outcome.RETRY
            next_at = time.time() + backoff_s(
                number,
                base_s=self._settings.retry_base_s,
                max_s=self._settings.retry_max_s,
                retry_after_s=attempt.retry_after_s,
            )
        record = {
            "at": time.time(),
            "status_code": attempt.status_code,
            "error": attempt.error,
            "ms": round(attempt.duration_s * 1000, 3),
        }
        await self._outbox.record(delivery.id, outcome=outcome, attempt=record, next_at=next_at)
