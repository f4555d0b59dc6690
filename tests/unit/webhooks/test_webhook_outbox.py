"""The outbox's delivery side on a real Redis: one lease holder, in-flight takes, attempts."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import anyio
import pytest
import redis.asyncio

from visiovox.embedded_redis import EmbeddedRedis
from visiovox.jobs.keys import RedisKeys
from visiovox.webhooks.outbox import DeliveryStatus, Outbox, Outcome

pytestmark = pytest.mark.anyio


@pytest.fixture
async def outbox(redis_server: EmbeddedRedis) -> AsyncIterator[tuple[Outbox, RedisKeys]]:
    client = redis.asyncio.Redis.from_url(redis_server.url)
    keys = RedisKeys(f"t{uuid.uuid4().hex[:8]}")
    yield Outbox(client, keys=keys, ttl_s=600), keys
    await client.aclose()


async def _finished_job(keys: RedisKeys, client: redis.asyncio.Redis) -> str:
    job_id = uuid.uuid4().hex
    await client.hset(
        keys.job(job_id), mapping={"status": '"succeeded"', "webhook_events": '["completed"]'}
    )
    return job_id


async def test_one_holder_at_a_time_and_a_lapsed_lease_is_taken_over(
    outbox: tuple[Outbox, RedisKeys],
) -> None:
    box, _ = outbox
    assert await box.hold_lease("a", lease_s=0.3)
    assert not await box.hold_lease("b", lease_s=0.3)
    assert await box.hold_lease("a", lease_s=0.3)  # renewed by its holder
    await anyio.sleep(0.4)
    assert await box.hold_lease("b", lease_s=0.3)
    assert not await box.hold_lease("a", lease_s=0.3)


async def test_taken_deliveries_are_in_flight_and_attempts_are_recorded(
    outbox: tuple[Outbox, RedisKeys], redis_server: EmbeddedRedis
) -> None:
    box, keys = outbox
    client = redis.asyncio.Redis.from_url(redis_server.url)
    job_id = await _finished_job(keys, client)
    delivery_id = await box.redeliver(job_id, now=time.time())
    assert delivery_id == f"msg_{job_id}_1"
    assert await box.queue_size() == 1

    now = time.time()
    assert await box.take_due("nobody", now=now, limit=10, until=now + 60) == []
    assert await box.hold_lease("a", lease_s=5)
    assert await box.take_due("a", now=now, limit=10, until=now + 60) == [delivery_id]
    assert await box.take_due("a", now=now, limit=10, until=now + 60) == []  # in flight

    attempt = {"at": now, "status_code": 500, "error": None, "ms": 3.0}
    await box.record(delivery_id, outcome=Outcome.RETRY, attempt=attempt, next_at=now + 30)
    retrying = await box.load(delivery_id)
    assert retrying is not None and retrying.status is DeliveryStatus.PENDING
    assert retrying.attempts == 1 and retrying.next_at == pytest.approx(now + 30)
    assert await box.next_due_at() == pytest.approx(now + 30)

    attempt = {"at": now, "status_code": 200, "error": None, "ms": 40.0}
    await box.record(delivery_id, outcome=Outcome.DELIVERED, attempt=attempt, next_at=None)
    [done] = await box.deliveries(job_id)
    assert done.status is DeliveryStatus.DELIVERED and done.next_at is None
    assert [a["status_code"] for a in done.log] == [500, 200]
    assert await box.queue_size() == 0
    stats = await box.stats()
    assert stats["result:retry"] == 1 and stats["result:delivered"] == 1
    assert stats["duration_le:5"] == 1 and stats["duration_le:50"] == 2
    await client.aclose()


async def test_redeliver_answers_for_jobs_it_cannot_redeliver(
    outbox: tuple[Outbox, RedisKeys], redis_server: EmbeddedRedis
) -> None:
    box, keys = outbox
    client = redis.asyncio.Redis.from_url(redis_server.url)
    assert await box.redeliver(uuid.uuid4().hex, now=time.time()) == "missing"
    running = uuid.uuid4().hex
    await client.hset(keys.job(running), mapping={"status": '"running"'})
    assert await box.redeliver(running, now=time.time()) == "running"
    quiet = uuid.uuid4().hex
    await client.hset(keys.job(quiet), mapping={"status": '"failed"', "webhook_events": "[]"})
    assert await box.redeliver(quiet, now=time.time()) == "none"
    await client.aclose()
