"""What handlers receive through their signatures: settings, job domain, caller, services.

Everything lives on ``app.state.gateway`` (built by the lifespan); these
dependencies hand out typed pieces of it, so no handler reaches for a global.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import redis.asyncio
from fastapi import Depends
from starlette.requests import HTTPConnection

from visiovox.api.feed import EventFeed
from visiovox.api.hub import NoticeHub
from visiovox.config import Settings
from visiovox.jobs.apikeys import ApiKeyStore
from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.workers import WorkerRegistry


@dataclass(frozen=True)
class Gateway:
    """The services one gateway process holds for its lifetime."""

    settings: Settings
    domain: JobDomain
    dispatcher: Dispatcher
    workers: WorkerRegistry
    api_keys: ApiKeyStore
    hub: NoticeHub
    # Event streams (SSE, WebSocket, synchronous job answers) follow jobs through it.
    feed: EventFeed
    aredis: redis.asyncio.Redis
    # Decided once at start-up (it parses the bind address), not per request.
    auth_enabled: bool


async def get_gateway(conn: HTTPConnection) -> Gateway:
    gateway = conn.app.state.gateway
    assert isinstance(gateway, Gateway)
    return gateway


# Dependencies are ``async def`` on purpose: FastAPI runs plain ``def`` ones in
# the threadpool, a hop each request would pay for nothing.
GatewayDep = Annotated[Gateway, Depends(get_gateway)]


async def get_settings_dep(gateway: GatewayDep) -> Settings:
    return gateway.settings


async def get_domain(gateway: GatewayDep) -> JobDomain:
    return gateway.domain


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DomainDep = Annotated[JobDomain, Depends(get_domain)]
