"""Rate limits on the HTTP side: who a request counts against, its 429s and its headers.

``Authenticator.caller`` (``api/security.py``) asks ``RequestLimiter.admit``
for one token per request (per API key, or per client address for requests
without a valid key and for everyone when auth is off), so every route that
knows its caller is limited, and an SSE stream or a WebSocket counts once,
when it opens; the health endpoints, which know no caller, are not. Job
submissions take a second token, from the submissions bucket, inside job
creation (``jobs/create_script.py``'s ``CREATE``), where the owner's quotas are
checked too. A refusal is a 429 ``rate_limited`` (or ``quota_exceeded``)
with ``Retry-After`` and the ``RateLimit-Limit``, ``RateLimit-Remaining``
and ``RateLimit-Reset`` headers (the IETF draft's names, seconds); allowed
requests carry the same three (``RateLimitHeaders``).

The client address is the socket peer; ``X-Forwarded-For`` and ``Forwarded``
count only when the peer is one of ``gateway.trusted_proxies``, and then the
client is the nearest address in them that is not itself a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visiovox.api.errors import ApiError
from visiovox.config_limits import KeyLimits, LimitSettings
from visiovox.jobs.apikeys import KEY_PREFIX, ApiKey, ApiKeyStore, key_digest
from visiovox.jobs.quotas import QuotaExceeded
from visiovox.jobs.ratelimit import Bucket, RateLimiter, Verdict

Network = IPv4Network | IPv6Network
# Where an admitted request's headers wait for the response (``scope["state"]``).
STATE_KEY = "ratelimit_headers"


@dataclass(frozen=True)
class CallerLimits:
    """What a caller may do: its buckets (None: not limited), quotas (0: none), priority."""

    requests: Bucket | None = None
    submits: Bucket | None = None
    max_queued: int = 0
    max_running: int = 0
    max_live: int = 0
    high_priority: bool = True


UNLIMITED = CallerLimits()


def key_limits(limits: KeyLimits) -> CallerLimits:
    """An API key's limits (``unlimited``: none at all, only its priority right)."""
    if limits.unlimited:
        return CallerLimits(high_priority=limits.high_priority)
    return CallerLimits(
        requests=Bucket(rate_per_s=limits.rate_per_s, burst=limits.burst),
        submits=Bucket.per_minute(limits.submits_per_min),
        max_queued=limits.max_queued,
        max_running=limits.max_running,
        max_live=limits.max_live,
        high_priority=limits.high_priority,
    )


def address_limits(settings: LimitSettings) -> CallerLimits:
    """A client address's buckets, with the quotas of the owner ``anonymous``."""
    address, anonymous = settings.address, settings.anonymous
    return CallerLimits(
        requests=Bucket(rate_per_s=address.rate_per_s, burst=address.burst),
        submits=Bucket.per_minute(address.submits_per_min),
        max_queued=anonymous.max_queued,
        max_running=anonymous.max_running,
        max_live=anonymous.max_live,
        high_priority=anonymous.high_priority,
    )


def _ip(text: str) -> IPv4Address | IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip().strip('"').strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _forwarded_for(headers: Headers) -> list[str]:
    """The client addresses the proxies recorded, the nearest last (``Forwarded`` first)."""
    forwarded = headers.get("forwarded")
    if forwarded:
        hops = []
        for element in forwarded.split(","):
            for pair in element.split(";"):
                name, _, value = pair.strip().partition("=")
                if name.lower() == "for":
                    value = value.strip().strip('"')
                    # "[v6]:port" or "v4:port": the port is no part of the address.
                    if value.startswith("["):
                        value = value[1 : value.find("]")]
                    elif value.count(":") == 1:
                        value = value.partition(":")[0]
                    hops.append(value)
        return hops
    return [hop.strip() for hop in headers.get("x-forwarded-for", "").split(",") if hop.strip()]


def client_address(conn: HTTPConnection, trusted: Sequence[Network]) -> str:
    """The client's address: the peer, or what a trusted proxy says the client was."""
    peer = conn.client.host if conn.client else "unknown"
    peer_ip = _ip(peer)
    if peer_ip is None or not any(peer_ip in network for network in trusted):
        return str(peer_ip) if peer_ip is not None else peer
    for hop in reversed(_forwarded_for(conn.headers)):
        hop_ip = _ip(hop)
        if hop_ip is None:
            break  # garbage a client sent ahead of the proxies' entries
        if not any(hop_ip in network for network in trusted):
            return str(hop_ip)
    return str(peer_ip)


def rate_headers(verdict: Verdict) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(verdict.limit),
        "RateLimit-Remaining": str(verdict.remaining),
        "RateLimit-Reset": str(verdict.reset_s),
    }


def rate_limited(verdict: Verdict, *, what: str = "requests") -> ApiError:
    """The 429 of an empty bucket."""
    retry = max(1, verdict.retry_after_s)
    return ApiError(
        429,
        "rate_limited",
        f"too many {what}: the limit is {verdict.limit} at once; retry in {retry} s",
        headers={**rate_headers(verdict), "Retry-After": str(retry)},
    )


def quota_exceeded(exc: QuotaExceeded, *, retry_after_s: int) -> ApiError:
    """The 429 of an owner at a quota: room comes back when one of its jobs ends."""
    return ApiError(
        429,
        "quota_exceeded",
        f"{exc}; retry when one of them has ended",
        headers={
            "Retry-After": str(retry_after_s),
            "RateLimit-Limit": str(exc.cap),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(retry_after_s),
        },
    )


class RequestLimiter:
    """Admits requests against the buckets of keys and addresses."""

    def __init__(
        self, limiter: RateLimiter, *, settings: LimitSettings, trusted: Sequence[Network]
    ) -> None:
        self._limiter = limiter
        self._trusted = list(trusted)
        self._address_limits = address_limits(settings)

    def for_key(self, record: ApiKey) -> tuple[str, CallerLimits]:
        """A key's bucket identity and limits."""
        return f"key:{record.digest}", key_limits(record.limits)

    async def admit_key(self, conn: HTTPConnection, key: str, store: ApiKeyStore) -> ApiKey | None:
        """The record of ``key`` (None: unknown), its request's token taken in the same round
        trip; a 429 ``rate_limited`` when there is none."""
        if not key.startswith(KEY_PREFIX):
            return None
        digest = key_digest(key)
        fields, verdict = await self._limiter.take_for_key(digest, defaults=store.defaults)
        record = store.decode(digest, fields)
        if record is not None and verdict is not None:
            self._check(conn, verdict)
        return record

    def for_address(self, conn: HTTPConnection) -> tuple[str, CallerLimits]:
        """The bucket identity and limits of the connection's client address."""
        return f"addr:{client_address(conn, self._trusted)}", self._address_limits

    async def admit(self, conn: HTTPConnection, *, identity: str, limits: CallerLimits) -> None:
        """Take the request's token; a 429 ``rate_limited`` when there is none."""
        if limits.requests is None:
            return
        self._check(conn, await self._limiter.take(identity, limits.requests))

    def _check(self, conn: HTTPConnection, verdict: Verdict) -> None:
        if not verdict.allowed:
            raise rate_limited(verdict)
        conn.scope.setdefault("state", {})[STATE_KEY] = rate_headers(verdict)


class RateLimitHeaders:
    """Adds an admitted request's ``RateLimit-*`` headers to its response (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = scope.get("state", {}).get(STATE_KEY)
                headers = list(message.get("headers", ()))
                if extra and not any(name == b"ratelimit-limit" for name, _ in headers):
                    headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
