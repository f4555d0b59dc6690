"""The HTTP client every delivery goes through, safe against server-side request forgery.

Each delivery resolves the host once (``Resolver``, the system's by default),
refuses the whole name when any of its addresses is off limits
(``target.is_public``; ``webhooks.allow_private`` lifts it), then connects to
the address it checked, never resolving again: the URL is rewritten to that
address, ``Host`` keeps the name, and TLS is still verified against the name
(httpcore's ``sni_hostname``), so a name that rebinds between the check and
the connection cannot reach another address. Redirects are not followed, the
answer's body is read up to ``webhooks.max_response_bytes`` (raw, never
decompressed), everything is bounded by ``webhooks.timeout_s``, and proxies
from the environment are ignored (they would resolve the name themselves).
HTTPS connections are not kept alive: pooled by address, one verified for one
name could otherwise carry another name's request. Certificates are verified
against the public roots httpx ships (certifi's), plus ``webhooks.ca_file``'s.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from visiovox.config_webhooks import WebhookSettings
from visiovox.webhooks.retry import parse_retry_after
from visiovox.webhooks.target import (
    DEFAULT_PORTS,
    InvalidWebhook,
    IPAddress,
    WebhookTarget,
    is_public,
    literal_address,
    parse_target,
)

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """``host``'s addresses from the system resolver (getaddrinfo in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]


@dataclass(frozen=True)
class Attempt:
    """What one POST got: a status (None: no answer), or why not; ``refused``: never retry."""

    status_code: int | None
    duration_s: float
    error: str | None = None
    retry_after_s: float | None = None
    refused: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class TargetRefused(Exception):
    """The target resolves to an address deliveries may not reach."""


class WebhookTrustError(ValueError):
    """``webhooks.ca_file`` cannot be read as CA certificates."""


def trust_for(settings: WebhookSettings) -> ssl.SSLContext | None:
    """The public roots and ``ca_file``'s certificates; None (the public roots alone)
    when no file is set. A missing or unreadable file raises ``WebhookTrustError``."""
    if settings.ca_file is None:
        return None
    context = httpx.create_ssl_context(trust_env=False)
    try:
        context.load_verify_locations(cafile=str(settings.ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise WebhookTrustError(
            f"webhooks.ca_file {settings.ca_file} holds no readable PEM certificate: {exc}"
        ) from exc
    return context


class WebhookClient:
    """Sends deliveries: resolve once, check, connect to the checked address."""

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        resolver: Resolver = system_resolver,
        trust: ssl.SSLContext | None = None,
    ) -> None:
        """``trust``: the certificates HTTPS is verified against (None: ``trust_for``'s)."""
        self._settings = settings
        self._resolver = resolver
        timeout = httpx.Timeout(settings.timeout_s)
        cap = settings.max_concurrency
        self._plain = httpx.AsyncClient(
            trust_env=False,
            follow_redirects=False,
            timeout=timeout,
            limits=httpx.Limits(max_connections=cap, max_keepalive_connections=cap),
        )
        self._tls = httpx.AsyncClient(
            verify=(trust if trust is not None else trust_for(settings)) or True,
            trust_env=False,
            follow_redirects=False,
            timeout=timeout,
            limits=httpx.Limits(max_connections=cap, max_keepalive_connections=0),
        )

    async def aclose(self) -> None:
        await self._plain.aclose()
        await self._tls.aclose()

    async def post(self, url: str, *, body: bytes, headers: dict[str, str]) -> Attempt:
        """POST ``body`` to ``url``; never raises for the target's or the network's faults."""
        started = time.perf_counter()
        try:
            target = parse_target(
                url,
                allow_http=self._settings.allow_http,
                allow_private=self._settings.allow_private,
            )
            address = await self._pin(target)
        except (InvalidWebhook, TargetRefused) as exc:
            return Attempt(None, time.perf_counter() - started, error=str(exc), refused=True)
        except OSError as exc:
            return Attempt(None, time.perf_counter() - started, error=f"resolve: {exc}")
        try:
            async with asyncio.timeout(self._settings.timeout_s):
                return await self._send(target, address, body=body, headers=headers)
        except (httpx.HTTPError, OSError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
            return Attempt(None, time.perf_counter() - started, error=error)

    async def _pin(self, target: WebhookTarget) -> IPAddress:
        """The one address this delivery connects to; ``TargetRefused`` when off limits."""
        literal = literal_address(target.host)
        addresses = (
            [literal] if literal is not None else await self._resolver(target.host, target.port)
        )
        if not addresses:
            raise TargetRefused(f"{target.host} has no address")
        if not self._settings.allow_private:
            barred = [str(a) for a in addresses if not is_public(a)]
            if barred:
                raise TargetRefused(f"{target.host} resolves to {barred[0]}, not a public address")
        return addresses[0]

    async def _send(
        self, target: WebhookTarget, address: IPAddress, *, body: bytes, headers: dict[str, str]
    ) -> Attempt:
        started = time.perf_counter()
        host = f"[{target.host}]" if ":" in target.host else target.host
        if target.port != DEFAULT_PORTS[target.scheme]:
            host = f"{host}:{target.port}"
        pinned = httpx.URL(target.url).copy_with(host=str(address))
        tls = target.scheme == "https"
        named = tls and literal_address(target.host) is None
        extensions = {"sni_hostname": target.host} if named else {}
        client = self._tls if tls else self._plain
        request = client.build_request(
            "POST", pinned, content=body, headers={**headers, "host": host}, extensions=extensions
        )
        response = await client.send(request, stream=True)
        try:
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read >= self._settings.max_response_bytes:
                    break
        finally:
            await response.aclose()
        return Attempt(
            response.status_code,
            time.perf_counter() - started,
            retry_after_s=parse_retry_after(response.headers.get("retry-after"), now=time.time()),
        )
