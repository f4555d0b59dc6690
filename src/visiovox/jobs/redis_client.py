"""Redis connections and the job-domain objects built on them."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from visiovox.config import Settings
from visiovox.jobs.events import EventLog
from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.storage import JobFiles
from visiovox.jobs.store import JobStore


def redis_url(settings: Settings) -> str:
    """The configured Redis URL; ``visiovox up`` sets it for an embedded server."""
    if not settings.redis.url:
        raise RuntimeError(
            "no Redis configured: set VISIOVOX_REDIS__URL or start with `visiovox up`"
        )
    return settings.redis.url


def connect(settings: Settings) -> redis.Redis:
    """A pooled client that fails fast when Redis is away."""
    return redis.Redis.from_url(
        redis_url(settings),
        socket_timeout=settings.redis.socket_timeout_s,
        socket_connect_timeout=settings.redis.connect_timeout_s,
        health_check_interval=30,
    )


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
    )
    store = JobStore(
        client,
        keys=keys,
        events=events,
        retention_s=settings.storage.retention_s,
        lease_s=settings.jobs.lease_s,
        max_attempts=settings.jobs.max_attempts,
    )
    return JobDomain(
        redis=client, keys=keys, events=events, store=store, files=JobFiles(settings.storage.root)
    )
