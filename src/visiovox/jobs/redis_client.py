"""Redis connections and the job-domain objects built on them.

Every client sits on a blocking pool capped by configuration
(``redis.max_connections`` in the gateway, ``redis.worker_max_connections`` in
a worker): a burst waits up to ``redis.pool_timeout_s`` for a free connection
instead of failing, and only then raises ``PoolExhausted``.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
import redis.asyncio

from visiovox.config import Settings
from visiovox.embedded_redis import EmbeddedRedis
from visiovox.jobs.events import EventLog
from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.redis_pool import AsyncBlockingPool, BlockingPool
from visiovox.jobs.storage import JobFiles
from visiovox.jobs.store import JobStore
from visiovox.storage.choose import open_backend


def redis_url(settings: Settings) -> str:
    """The configured Redis URL, else the embedded server's socket while one is running.

    ``visiovox up`` sets the URL for its children; the socket lets a command run
    beside it (``visiovox keys create``, from the same folder) reach the same server.
    """
    if settings.redis.url:
        return settings.redis.url
    embedded = EmbeddedRedis(settings.redis.embedded_dir)
    if embedded.socket_path.is_socket():
        return embedded.url
    raise RuntimeError("no Redis configured: set VISIOVOX_REDIS__URL or start with `visiovox up`")


def _pool_options(settings: Settings, max_connections: int | None) -> dict[str, float | int]:
    return {
        "max_connections": max_connections or settings.redis.max_connections,
        "timeout": settings.redis.pool_timeout_s,
        "socket_timeout": settings.redis.socket_timeout_s,
        "socket_connect_timeout": settings.redis.connect_timeout_s,
        "health_check_interval": 30,
    }


def connect(settings: Settings, *, max_connections: int | None = None) -> redis.Redis:
    """A client for threads that fails fast when Redis is away.

    Its pool holds at most ``max_connections`` (default ``redis.max_connections``).
    """
    pool = BlockingPool.from_url(redis_url(settings), **_pool_options(settings, max_connections))
    return redis.Redis.from_pool(pool)


def connect_async(settings: Settings, *, max_connections: int | None = None) -> redis.asyncio.Redis:
    """A client for the event loop, pooled as ``connect``'s."""
    pool = AsyncBlockingPool.from_url(
        redis_url(settings), **_pool_options(settings, max_connections)
    )
    return redis.asyncio.Redis.from_pool(pool)


@dataclass(frozen=True)
class JobDomain:
    """The job store, event log and files of one process, sharing one client."""

    redis: redis.Redis
    keys: RedisKeys
    events: EventLog
    store: JobStore
    files: JobFiles


def build_domain(settings: Settings, client: redis.Redis | None = None) -> JobDomain:
    """Wire the job domain for ``settings``."""
    client = client or connect(settings)
    keys = RedisKeys(settings.redis.prefix)
    events = EventLog(
        client,
        keys=keys,
        maxlen=settings.jobs.events_maxlen,
        retention_s=settings.storage.retention_s,
        progress_webhook_interval_s=settings.webhooks.progress_min_interval_s,
    )
    store = JobStore(
        client,
        keys=keys,
        events=events,
        retention_s=settings.storage.retention_s,
        lease_s=settings.jobs.lease_s,
        max_attempts=settings.jobs.max_attempts,
    )
    files = JobFiles(
        settings.storage.root,
        min_free_bytes=settings.storage.min_free_bytes,
        backend=open_backend(settings.storage),
        remote_sweep_s=settings.storage.s3.retention_sweep_s,
    )
    return JobDomain(redis=client, keys=keys, events=events, store=store, files=files)
