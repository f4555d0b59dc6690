"""What handlers receive through their signatures: one alias per service they use.

The lifespan builds the gateway's services once (``Gateway``, on
``app.state.gateway``); each dependency below hands out one of them, so a
handler names what it needs (``SubmitDep``, ``ReaderDep``, ...) and reaches
for no global and into no bag. WebSocket routes take the same aliases; they
authenticate after accepting (``AuthDep``), so a refusal can close with a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import redis.asyncio
from fastapi import Depends
from starlette.requests import HTTPConnection

from visiovox.api.assistant_turns import AssistantTurns
from visiovox.api.event_feed import EventFeed
from visiovox.api.hub import NoticeHub
from visiovox.api.job_follow import JobFollower
from visiovox.api.live_relay import LiveRelays
from visiovox.api.security import Authenticator, Caller
from visiovox.api.submission import Submissions
from visiovox.config import Settings
from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.reader import JobReader
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.sessions import SessionStore
from visiovox.jobs.storage import JobFiles
from visiovox.jobs.store import JobStore
from visiovox.jobs.workers import WorkerRegistry
from visiovox.webhooks.deliverer import WebhookDeliverer
from visiovox.webhooks.outbox import Outbox


@dataclass(frozen=True)
class Gateway:
    """The services one gateway process holds for its lifetime."""

    settings: Settings
    # The threads' client and what is built on it: the job store, files, key names.
    domain: JobDomain
    # The event loop's client: the notice subscription, reads, submissions.
    aredis: redis.asyncio.Redis
    reader: JobReader
    workers: WorkerRegistry
    auth: Authenticator
    hub: NoticeHub
    # Event streams (SSE, WebSocket, synchronous job answers) follow jobs through it.
    feed: EventFeed
    submissions: Submissions
    follower: JobFollower
    sessions: SessionStore
    turns: AssistantTurns
    relays: LiveRelays
    # The job webhooks' outbox (delivery logs, redelivery) and this process's delivery loop.
    outbox: Outbox
    deliverer: WebhookDeliverer


def _gateway(conn: HTTPConnection) -> Gateway:
    gateway = conn.app.state.gateway
    assert isinstance(gateway, Gateway)
    return gateway


# Dependencies are ``async def`` on purpose: FastAPI runs plain ``def`` ones in
# the threadpool, a hop each request would pay for nothing.
async def _settings(conn: HTTPConnection) -> Settings:
    return _gateway(conn).settings


async def _auth(conn: HTTPConnection) -> Authenticator:
    return _gateway(conn).auth


async def _caller(conn: HTTPConnection) -> Caller:
    """The caller of an HTTP request (keys in headers only); 401 when auth is on and it is bad."""
    return await _gateway(conn).auth.caller(conn)


async def _reader(conn: HTTPConnection) -> JobReader:
    return _gateway(conn).reader


async def _store(conn: HTTPConnection) -> JobStore:
    return _gateway(conn).domain.store


async def _files(conn: HTTPConnection) -> JobFiles:
    return _gateway(conn).domain.files


async def _keys(conn: HTTPConnection) -> RedisKeys:
    return _gateway(conn).domain.keys


async def _redis(conn: HTTPConnection) -> redis.asyncio.Redis:
    return _gateway(conn).aredis


async def _workers(conn: HTTPConnection) -> WorkerRegistry:
    return _gateway(conn).workers


async def _feed(conn: HTTPConnection) -> EventFeed:
    return _gateway(conn).feed


async def _submissions(conn: HTTPConnection) -> Submissions:
    return _gateway(conn).submissions


async def _follower(conn: HTTPConnection) -> JobFollower:
    return _gateway(conn).follower


async def _sessions(conn: HTTPConnection) -> SessionStore:
    return _gateway(conn).sessions


async def _turns(conn: HTTPConnection) -> AssistantTurns:
    return _gateway(conn).turns


async def _relays(conn: HTTPConnection) -> LiveRelays:
    return _gateway(conn).relays


async def _outbox(conn: HTTPConnection) -> Outbox:
    return _gateway(conn).outbox


SettingsDep = Annotated[Settings, Depends(_settings)]
AuthDep = Annotated[Authenticator, Depends(_auth)]
CallerDep = Annotated[Caller, Depends(_caller)]
ReaderDep = Annotated[JobReader, Depends(_reader)]
StoreDep = Annotated[JobStore, Depends(_store)]
FilesDep = Annotated[JobFiles, Depends(_files)]
KeysDep = Annotated[RedisKeys, Depends(_keys)]
RedisDep = Annotated[redis.asyncio.Redis, Depends(_redis)]
WorkersDep = Annotated[WorkerRegistry, Depends(_workers)]
FeedDep = Annotated[EventFeed, Depends(_feed)]
SubmitDep = Annotated[Submissions, Depends(_submissions)]
FollowDep = Annotated[JobFollower, Depends(_follower)]
SessionsDep = Annotated[SessionStore, Depends(_sessions)]
TurnsDep = Annotated[AssistantTurns, Depends(_turns)]
RelaysDep = Annotated[LiveRelays, Depends(_relays)]
OutboxDep = Annotated[Outbox, Depends(_outbox)]
