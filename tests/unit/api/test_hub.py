"""The notice hub: one subscription, fanned out per job; an idle watcher never holds others up."""

from __future__ import annotations

import time

import pytest
import redis
import redis.asyncio

from visiovox.api.hub import NoticeHub
from visiovox.config import Settings


@pytest.mark.anyio
async def test_notices_reach_only_the_watchers_of_their_job(settings: Settings) -> None:
    assert settings.redis.url
    channel = f"{settings.redis.prefix}:notices"
    publisher = redis.Redis.from_url(settings.redis.url)
    client = redis.asyncio.Redis.from_url(settings.redis.url)
    hub = NoticeHub(client, channel=channel)
    hub.start()
    try:
        assert await hub.wait_subscribed(5)
        with (
            hub.watch("a") as first,
            hub.watch("a") as second,
            hub.watch("b") as other,
            hub.watch("end") as end,
        ):
            assert hub.watching() == 4
            # Waking is level-triggered: a watcher that never waits (a slow client)
            # just stays set; the hub does not queue anything for it.
            for _ in range(500):
                publisher.publish(channel, "a")
            publisher.publish(channel, "end")
            assert await end.wait(2)  # notices arrive in order: every "a" was handled
            assert await first.wait(0) and await second.wait(0)
            assert not await other.wait(0.05)

            first.clear()
            started = time.perf_counter()
            publisher.publish(channel, "b")
            assert await other.wait(2)
            assert time.perf_counter() - started < 0.5
            assert not await first.wait(0.05)
        assert hub.watching() == 0
    finally:
        await hub.stop()
        await client.aclose()
        publisher.close()
