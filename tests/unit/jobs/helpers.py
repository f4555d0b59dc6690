"""Creating jobs from synchronous tests the way the gateway does: on an asyncio client."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio

from visiovox.jobs.model import Job
from visiovox.jobs.redis_client import JobDomain


def async_client(domain: JobDomain) -> redis.asyncio.Redis:
    """An asyncio client of the server that ``domain``'s client talks to."""
    options = domain.redis.connection_pool.connection_kwargs
    if "path" in options:  # the embedded server's socket
        return redis.asyncio.Redis(unix_socket_path=options["path"])
    return redis.asyncio.Redis(host=options["host"], port=options["port"], db=options.get("db", 0))


def create_job(domain: JobDomain, job: Job, **options: Any) -> tuple[Job, bool]:
    """``JobStore.create`` (``options``: its keyword arguments) from a synchronous test."""

    async def create() -> tuple[Job, bool]:
        client = async_client(domain)
        try:
            return await domain.store.create(client, job, **options)
        finally:
            await client.aclose()

    return asyncio.run(create())
