"""The gateway's app factory: ``create_app(settings)`` wires routes, errors and services.

``visiovox serve`` runs ``uvicorn.run("visiovox.api.app:create_app", factory=True)``,
so ``create_app()`` with no arguments reads the process settings. The
lifespan connects nothing eagerly: Redis clients connect on first use and the
notice hub subscribes in the background, so a gateway started while Redis is
away answers 503 and recovers by itself. The gateway never imports an engine
(onnxruntime, cv2, faster_whisper, ...), only pipeline specs. Each gateway
process runs a webhook delivery loop (``webhooks/deliverer.py``); one at a
time delivers, the one that holds the outbox lease.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio
from fastapi import FastAPI

from visiovox.api.assistant_turns import AssistantTurns
from visiovox.api.deps import Gateway
from visiovox.api.errors import install_error_handlers
from visiovox.api.event_feed import EventFeed
from visiovox.api.hub import NoticeHub
from visiovox.api.job_follow import JobFollower
from visiovox.api.live_relay import LiveRelays
from visiovox.api.metrics import GatewayMetrics, RequestMetrics
from visiovox.api.openapi import install_openapi
from visiovox.api.query_params import RepeatedQueryParams
from visiovox.api.ratelimit import RateLimitHeaders, RequestLimiter
from visiovox.api.routes import (
    assistant,
    console,
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
    voices,
    webhooks,
    workers,
)
from visiovox.api.schemas import JobOut
from visiovox.api.security import Authenticator
from visiovox.api.submission import Submissions
from visiovox.config import Settings, get_settings
from visiovox.jobs.apikeys import ApiKeyStore
from visiovox.jobs.model import Job
from visiovox.jobs.ratelimit import RateLimiter
from visiovox.jobs.reader import JobReader
from visiovox.jobs.redis_client import JobDomain, build_domain, connect_async
from visiovox.jobs.sessions import SessionStore
from visiovox.jobs.workers import WORKER_TTL_HEARTBEATS, WorkerRegistry
from visiovox.logs import install_redaction
from visiovox.webhooks.client import WebhookClient
from visiovox.webhooks.deliverer import WebhookDeliverer
from visiovox.webhooks.outbox import Outbox
from visiovox.webhooks.secrets import SigningSecrets

log = logging.getLogger(__name__)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    domain = build_domain(settings)
    # The event loop's client: the notice subscription, event-stream reads, submissions.
    aredis = connect_async(settings)
    hub = NoticeHub(aredis, channel=domain.keys.notices)
    hub.start()
    gateway = app.state.gateway = _services(settings, domain=domain, aredis=aredis, hub=hub)
    gateway.deliverer.start()
    log.info(
        "gateway ready: auth %s, uploads capped at %d bytes",
        "on" if settings.auth_enabled else "off",
        settings.uploads.max_bytes,
    )
    try:
        yield
    finally:
        await gateway.deliverer.stop()
        await hub.stop()
        await aredis.aclose()
        domain.redis.close()


def _deliverer(
    settings: Settings,
    *,
    domain: JobDomain,
    aredis: redis.asyncio.Redis,
    outbox: Outbox,
    hub: NoticeHub,
) -> WebhookDeliverer:
    """The webhook delivery loop, rendering jobs as ``GET /v1/jobs/{id}`` with absolute URLs."""
    base_url = settings.gateway.base_url

    def render(job: Job) -> dict[str, object]:
        return JobOut.from_job(job, base_url=base_url).model_dump(mode="json")

    secret = settings.webhooks.signing_secret
    return WebhookDeliverer(
        aredis,
        keys=domain.keys,
        settings=settings.webhooks,
        outbox=outbox,
        secrets=SigningSecrets(aredis, keys=domain.keys, configured=secret),
        sender=WebhookClient(settings.webhooks),
        render=render,
        notices=hub,
    )


def _services(
    settings: Settings, *, domain: JobDomain, aredis: redis.asyncio.Redis, hub: NoticeHub
) -> Gateway:
    """The gateway's services, each built once on the two clients."""
    reader = JobReader(aredis, keys=domain.keys)
    workers = WorkerRegistry(
        domain.redis, keys=domain.keys, ttl_s=WORKER_TTL_HEARTBEATS * settings.worker.heartbeat_s
    )
    feed = EventFeed(hub=hub, reader=reader)
    submissions = Submissions(
        settings=settings, store=domain.store, workers=workers, files=domain.files, client=aredis
    )
    follower = JobFollower(
        feed=feed,
        reader=reader,
        store=domain.store,
        keepalive_s=settings.gateway.sse_keepalive_s,
    )
    sessions = SessionStore(aredis, keys=domain.keys, settings=settings.assistant)
    outbox = Outbox(aredis, keys=domain.keys, ttl_s=settings.storage.retention_s)
    api_keys = (
        ApiKeyStore(domain.redis, keys=domain.keys, defaults=settings.limits.key, aclient=aredis)
        if settings.auth_enabled
        else None
    )
    limiter = (
        RequestLimiter(
            RateLimiter(aredis, keys=domain.keys),
            settings=settings.limits,
            trusted=settings.gateway.trusted_proxies,
        )
        if settings.limits.enabled
        else None
    )
    return Gateway(
        settings=settings,
        domain=domain,
        aredis=aredis,
        reader=reader,
        workers=workers,
        # Decided once at start-up (it parses the bind address), not per request.
        auth=Authenticator(api_keys, limiter),
        hub=hub,
        feed=feed,
        submissions=submissions,
        follower=follower,
        sessions=sessions,
        turns=AssistantTurns(
            sessions=sessions,
            submissions=submissions,
            follower=follower,
            max_tokens=settings.assistant.max_tokens,
        ),
        relays=LiveRelays(aredis, domain.keys, settings.live),
        outbox=outbox,
        deliverer=_deliverer(settings, domain=domain, aredis=aredis, outbox=outbox, hub=hub),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """A gateway app for ``settings`` (the process settings when None)."""
    # uvicorn configured its loggers' handlers before it called this factory.
    install_redaction()
    app = FastAPI(
        title="VisioVox",
        version="1",
        summary="AI media jobs: submit, follow and download.",
        lifespan=_lifespan,
    )
    app.state.settings = settings if settings is not None else get_settings()
    app.state.metrics = GatewayMetrics()
    # Innermost, so the request metrics count its 422s like any answer.
    app.add_middleware(RepeatedQueryParams)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    app.add_middleware(RateLimitHeaders)
    install_error_handlers(app)
    routers = (health, pipelines, jobs, webhooks, files, events, workers, models, voices, metrics)
    modules = (*routers, openai_chat, openai_audio, assistant, live)
    for module in modules:
        app.include_router(module.router)
    install_openapi(app, routers=[module.router for module in modules])
    # The web console (no key, not in the OpenAPI document): ``/`` and ``/console/…``.
    app.include_router(console.router)
    return app
