"""JobReader on a real Redis: owner pages, another owner's job, event streams after an id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from tests.unit.jobs.helpers import async_client
from visiovox.jobs.model import EventType, Job
from visiovox.jobs.reader import JobReader
from visiovox.jobs.redis_client import JobDomain


@pytest.fixture
async def client(domain: JobDomain) -> AsyncIterator[redis.asyncio.Redis]:
    client = async_client(domain)
    yield client
    await client.aclose()


@pytest.fixture
def reader(domain: JobDomain, client: redis.asyncio.Redis) -> JobReader:
    return JobReader(client, keys=domain.keys)


@pytest.mark.anyio
async def test_owner_listing_pages_newest_first_with_filters(
    domain: JobDomain, client: redis.asyncio.Redis, reader: JobReader
) -> None:
    for index in range(7):
        pipeline = "tts" if index % 2 else "noop"
        await domain.store.create(client, Job(id=f"j{index}", pipeline=pipeline, owner="o"))
    await domain.store.create(client, Job(id="other", pipeline="noop", owner="someone-else"))
    first = await reader.list_for_owner("o", limit=3)
    assert [j.id for j in first.jobs] == ["j6", "j5", "j4"]
    second = await reader.list_for_owner("o", limit=3, cursor=first.next_cursor)
    assert [j.id for j in second.jobs] == ["j3", "j2", "j1"]
    last = await reader.list_for_owner("o", limit=3, cursor=second.next_cursor)
    assert [j.id for j in last.jobs] == ["j0"] and last.next_cursor is None
    tts = await reader.list_for_owner("o", pipeline="tts", limit=10)
    assert [j.id for j in tts.jobs] == ["j5", "j3", "j1"]
    assert await reader.get_for_owner("other", "o") is None


@pytest.mark.anyio
async def test_an_expired_job_leaves_its_owners_index(
    domain: JobDomain, client: redis.asyncio.Redis, reader: JobReader
) -> None:
    for job_id in ("kept", "gone"):
        await domain.store.create(client, Job(id=job_id, pipeline="noop", owner="o"))
    domain.redis.delete(domain.keys.job("gone"))  # as its retention running out does
    page = await reader.list_for_owner("o")
    assert [j.id for j in page.jobs] == ["kept"] and page.next_cursor is None
    assert domain.redis.zscore(domain.keys.owner_index("o"), "gone") is None


@pytest.mark.anyio
async def test_events_are_read_after_an_id(domain: JobDomain, reader: JobReader) -> None:
    ids = [domain.events.append("e", EventType.LOG, {"n": n}) for n in range(5)]
    assert [e.data["n"] for e in await reader.read_after("e", ids[1])] == [2, 3, 4]
    assert [e.id for e in await reader.read_after("e", "0")] == ids
    assert [e.id for e in await reader.read_after("e", "0", count=2)] == ids[:2]
