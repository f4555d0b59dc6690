"""The gateway's app factory: ``create_app(settings)`` wires routes, errors and services.

``visiovox serve`` runs ``uvicorn.run("visiovox.api.app:create_app", factory=True)``,
so ``create_app()`` with no arguments reads the process settings. The
lifespan connects nothing eagerly: Redis clients connect on first use and the
notice hub subscribes in the background, so a gateway started while Redis is
away answers 503 and recovers by itself. The gateway never imports an engine
(onnxruntime, cv2, faster_whisper, ...), only pipeline specs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from visiovox.api.deps import Gateway
from visiovox.api.errors import install_error_handlers
from visiovox.api.feed import EventFeed
from visiovox.api.hub import NoticeHub
from visiovox.api.metrics import GatewayMetrics, RequestMetrics
from visiovox.api.routes import (
    assistant,
    events,
    files,
    health,
    jobs,
    live,
    metrics,
    models,
    openai_audio,
    openai_chat,
    pipelines,
    workers,
)
from visiovox.config import Settings, get_settings
from visiovox.jobs.apikeys import ApiKeyStore
from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.reader import JobReader
from visiovox.jobs.redis_client import build_domain, connect_async
from visiovox.jobs.workers import WORKER_TTL_HEARTBEATS, WorkerRegistry

log = logging.getLogger(__name__)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    domain = build_domain(settings)
    # The event loop's client: the notice subscription, event-stream reads, submissions.
    aredis = connect_async(settings)
    hub = NoticeHub(aredis, channel=domain.keys.notices)
    hub.start()
    app.state.gateway = Gateway(
        settings=settings,
        domain=domain,
        dispatcher=Dispatcher(domain.redis),
        workers=WorkerRegistry(
            domain.redis,
            keys=domain.keys,
            ttl_s=WORKER_TTL_HEARTBEATS * settings.worker.heartbeat_s,
        ),
        api_keys=ApiKeyStore(domain.redis, keys=domain.keys),
        hub=hub,
        feed=EventFeed(hub=hub, reader=JobReader(aredis, keys=domain.keys)),
        aredis=aredis,
        auth_enabled=settings.auth_enabled,
    )
    log.info(
        "gateway ready: auth %s, uploads capped at %d bytes",
        "on" if settings.auth_enabled else "off",
        settings.uploads.max_bytes,
    )
    try:
        yield
    finally:
        await hub.stop()
        await aredis.aclose()
        domain.redis.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """A gateway app for ``settings`` (the process settings when None)."""
    app = FastAPI(
        title="VisioVox",
        version="1",
        summary="AI media jobs: submit, follow and download.",
        lifespan=_lifespan,
    )
    app.state.settings = settings if settings is not None else get_settings()
    app.state.metrics = GatewayMetrics()
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    install_error_handlers(app)
    routers = (health, pipelines, jobs, files, events, workers, models, metrics)
    for module in (*routers, openai_chat, openai_audio, assistant, live):
        app.include_router(module.router)
    return app
