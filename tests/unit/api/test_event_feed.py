"""The event feed: followers of one job share reads, but never one sent before their notice."""

from __future__ import annotations

import asyncio

import pytest
import redis.exceptions

from visiovox.api.event_feed import EventFeed
from visiovox.api.hub import NoticeHub
from visiovox.jobs.model import EventType, Job, JobEvent
from visiovox.jobs.reader import JobReader

FOLLOWERS = 300


class ScriptedReader(JobReader):
    """A job's stream in memory; counts the reads and can hold them at a gate."""

    def __init__(self) -> None:
        self.events: list[JobEvent] = []
        self.reads = 0
        self.gate: asyncio.Event | None = None
        self.error: Exception | None = None

    def append(self, event_type: EventType) -> None:
        self.events.append(JobEvent(id=f"{len(self.events) + 1}-0", type=event_type))

    async def read_after(self, job_id: str, after: str, *, count: int = 500) -> list[JobEvent]:
        self.reads += 1
        snapshot = [e for e in self.events if after in ("0", "0-0") or e.id > after][:count]
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return snapshot


def hub_and_feed() -> tuple[NoticeHub, ScriptedReader, EventFeed]:
    # Never started: the tests deliver notices themselves, as the subscription would.
    hub = NoticeHub(None, channel="unused")  # type: ignore[arg-type]
    reader = ScriptedReader()
    return hub, reader, EventFeed(hub=hub, reader=reader)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.anyio
async def test_the_followers_of_a_job_share_one_read_per_notice() -> None:
    hub, reader, feed = hub_and_feed()
    job = Job(id="j1", pipeline="noop", owner="alice")
    reader.append(EventType.QUEUED)

    async def follower() -> list[str]:
        seen: list[str] = []
        async for batch in feed.follow(job=job, after="0", keepalive_s=30):
            seen += [event.id for event in batch]
        return seen

    followers = [asyncio.create_task(follower()) for _ in range(FOLLOWERS)]
    await settle()
    assert reader.reads == 1 and hub.watching() == FOLLOWERS
    for event_type in (EventType.STARTED, EventType.PROGRESS, EventType.SUCCEEDED):
        reader.append(event_type)
        hub._notify(job.id)
        await settle()
    results = await asyncio.gather(*followers)
    assert all(seen == ["1-0", "2-0", "3-0", "4-0"] for seen in results)
    assert reader.reads == 4  # the first read and one per notice, for all 300
    assert hub.watching() == 0 and feed.in_flight() == 0


@pytest.mark.anyio
async def test_a_follower_woken_by_a_notice_does_not_join_an_older_read() -> None:
    hub, reader, feed = hub_and_feed()
    with hub.watch("j1"):
        reader.gate = asyncio.Event()
        early = asyncio.create_task(feed.read_after("j1", "0"))
        await settle()
        # The event lands after the early read was sent; its notice wakes the follower.
        reader.append(EventType.QUEUED)
        hub._notify("j1")
        late = asyncio.create_task(feed.read_after("j1", "0"))
        await settle()
        assert reader.reads == 2
        reader.gate.set()
        assert await early == []
        assert [event.id for event in await late] == ["1-0"]


@pytest.mark.anyio
async def test_a_follower_leaving_does_not_cancel_the_shared_read() -> None:
    hub, reader, feed = hub_and_feed()
    reader.append(EventType.QUEUED)
    reader.gate = asyncio.Event()
    with hub.watch("j1"):
        leaving = asyncio.create_task(feed.read_after("j1", "0"))
        staying = asyncio.create_task(feed.read_after("j1", "0"))
        await settle()
        leaving.cancel()
        await settle()
        reader.gate.set()
        assert [event.id for event in await staying] == ["1-0"]
        assert leaving.cancelled() and reader.reads == 1


@pytest.mark.anyio
async def test_a_failed_shared_read_fails_every_follower_then_reads_again() -> None:
    hub, reader, feed = hub_and_feed()
    reader.append(EventType.QUEUED)
    reader.error = redis.exceptions.ConnectionError("Redis went away")
    with hub.watch("j1"):
        outcomes = await asyncio.gather(
            *(feed.read_after("j1", "0") for _ in range(3)), return_exceptions=True
        )
        assert all(isinstance(o, redis.exceptions.ConnectionError) for o in outcomes)
        assert reader.reads == 1 and feed.in_flight() == 0
        reader.error = None
        assert [event.id for event in await feed.read_after("j1", "0")] == ["1-0"]
