"""Redis pools: capped by configuration, a full pool waits, then says so (not "unreachable")."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis.exceptions

from visiovox.config import Settings, load_settings
from visiovox.jobs.redis_client import connect, connect_async
from visiovox.jobs.redis_pool import PoolExhausted


def small(settings: Settings, **redis_overrides: object) -> Settings:
    values = {**settings.redis.model_dump(), "pool_timeout_s": 0.2, **redis_overrides}
    return load_settings(redis=values)


def test_pools_are_sized_by_configuration(settings: Settings) -> None:
    client = connect(small(settings, max_connections=7))
    assert client.connection_pool.max_connections == 7
    worker = connect(settings, max_connections=settings.redis.worker_max_connections)
    assert worker.connection_pool.max_connections == settings.redis.worker_max_connections
    client.close()
    worker.close()


def test_a_full_pool_waits_for_a_connection_then_raises_pool_exhausted(settings: Settings) -> None:
    client = connect(small(settings, max_connections=2))
    pool = client.connection_pool
    held = [pool.get_connection(), pool.get_connection()]
    started = time.monotonic()
    with pytest.raises(PoolExhausted, match=r"all 2 Redis connections stayed busy for 0\.2s"):
        client.ping()
    assert time.monotonic() - started >= 0.2
    pool.release(held.pop())
    assert client.ping()
    pool.release(held.pop())
    client.close()


def test_an_unreachable_redis_is_not_a_full_pool(settings: Settings, tmp_path: Path) -> None:
    client = connect(small(settings, url=f"unix://{tmp_path}/nothing.sock"))
    with pytest.raises(redis.exceptions.ConnectionError) as raised:
        client.ping()
    assert not isinstance(raised.value, PoolExhausted)


@pytest.mark.anyio
async def test_the_event_loop_pool_waits_then_raises_pool_exhausted(
    settings: Settings, tmp_path: Path
) -> None:
    client = connect_async(small(settings, max_connections=2))
    pool = client.connection_pool
    held = [await pool.get_connection(), await pool.get_connection()]
    with pytest.raises(PoolExhausted):
        await client.ping()
    await pool.release(held.pop())
    assert await client.ping()
    await pool.release(held.pop())
    await client.aclose()

    away = connect_async(small(settings, url=f"unix://{tmp_path}/nothing.sock"))
    with pytest.raises(redis.exceptions.ConnectionError) as raised:
        await away.ping()
    assert not isinstance(raised.value, PoolExhausted)
    await away.aclose()
