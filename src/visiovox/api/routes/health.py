"""Liveness (the process answers) and readiness (Redis answers and a worker is live)."""

from __future__ import annotations

import redis.exceptions
from fastapi import APIRouter

from visiovox.api.deps import RedisDep, WorkersDep
from visiovox.api.errors import ApiError, redis_unavailable_error
from visiovox.api.schemas import ErrorBody

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """200 whenever the process is up; touches nothing else."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"model": ErrorBody}})
async def readyz(client: RedisDep, registry: WorkersDep) -> dict[str, str | int]:
    """200 when Redis answers PING and at least one worker is live, else 503 with the reason."""
    try:
        await client.ping()
        workers = await registry.live_async(client)
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        raise redis_unavailable_error() from exc
    if not workers:
        raise ApiError(503, "no_workers", "no worker is live: start one with `visiovox worker`")
    return {"status": "ready", "workers": len(workers)}
