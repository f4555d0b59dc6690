"""Where a webhook may go: the URL's checks, and which addresses are off limits.

A webhook URL is ``https://`` (``http://`` only with ``webhooks.allow_http``),
with a host, no user or password, at most ``MAX_URL_CHARS``. An address is
refused unless it is globally routable: loopback, link-local (which holds the
clouds' metadata service, 169.254.169.254), private, shared (CGNAT), reserved,
unspecified and multicast addresses, and IPv4 addresses mapped into IPv6, are
all off limits unless ``webhooks.allow_private``. A literal address is judged
at submission; a name when it is resolved, before each delivery connects.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

MAX_URL_CHARS = 2_048
DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class InvalidWebhook(ValueError):
    """The URL cannot be a webhook target (its message says why)."""


@dataclass(frozen=True)
class WebhookTarget:
    """A checked webhook URL, split into what the client connects to."""

    url: str
    scheme: str
    host: str
    port: int

    @property
    def shown(self) -> str:
        """The URL without its query string and fragment (which may hold a token)."""
        return public_url(self.url)


def public_url(url: str) -> str:
    """``url`` without its query string and fragment."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one (``[::1]``'s brackets already gone)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is globally routable (mapped IPv4 judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def parse_target(url: str, *, allow_http: bool, allow_private: bool) -> WebhookTarget:
    """``url`` checked as a webhook target; ``InvalidWebhook`` with the reason."""
    if len(url) > MAX_URL_CHARS:
        raise InvalidWebhook(f"the URL is over {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidWebhook(f"not a URL: {exc}") from None
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise InvalidWebhook(f"the URL must start with {' or '.join(s + '://' for s in schemes)}")
    if not parts.hostname:
        raise InvalidWebhook("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhook("the URL may not hold a user or password")
    address = literal_address(parts.hostname)
    if address is not None and not allow_private and not is_public(address):
        raise InvalidWebhook(f"{address} is not a public address")
    return WebhookTarget(
        url=url,
        scheme=parts.scheme,
        host=parts.hostname,
        port=port or DEFAULT_PORTS[parts.scheme],
    )
