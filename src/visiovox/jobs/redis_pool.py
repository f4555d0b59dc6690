"""Blocking Redis connection pools that tell a busy pool apart from an outage.

redis-py's default pool raises ``Too many connections`` the moment its cap
(100) is reached, so a burst of requests fails although Redis is fine. A
``BlockingConnectionPool`` makes the burst wait up to ``timeout`` seconds for a
connection instead; when that wait runs out it raises the same
``ConnectionError`` an outage does. These pools raise ``PoolExhausted`` then,
so the gateway can answer "busy, retry" rather than "Redis is unreachable".
"""

from __future__ import annotations

import queue
from typing import Any

import redis
import redis.asyncio
import redis.exceptions


class PoolExhausted(redis.exceptions.ConnectionError):
    """Every connection of a pool stayed in use for the pool's whole timeout."""


def _exhausted(pool: redis.BlockingConnectionPool | redis.asyncio.BlockingConnectionPool) -> str:
    return f"all {pool.max_connections} Redis connections stayed busy for {pool.timeout}s"


class BlockingPool(redis.BlockingConnectionPool):
    """The threads' pool: waits for a free connection, then raises ``PoolExhausted``."""

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]
        except redis.exceptions.ConnectionError as exc:
            # redis-py raises ConnectionError("No connection available.") while
            # handling the queue's Empty; connect failures carry other contexts.
            if isinstance(exc.__context__, queue.Empty):
                raise PoolExhausted(_exhausted(self)) from exc
            raise


class AsyncBlockingPool(redis.asyncio.BlockingConnectionPool):
    """The event loop's pool: waits for a free connection, then raises ``PoolExhausted``."""

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]
        except redis.exceptions.ConnectionError as exc:
            # redis-py raises ConnectionError("No connection available.") from the
            # wait's TimeoutError; connect failures are raised without a cause.
            if isinstance(exc.__cause__, TimeoutError):
                raise PoolExhausted(_exhausted(self)) from exc
            raise
