"""The SSRF-safe delivery client: refusals before any socket, pinning, redirects, caps.

Refusals run with ``allow_private`` off and ``socket`` patched to record and
refuse every socket, connection and resolution: the assertion is that none
was attempted. Everything that connects goes to a ``WebhookReceiver`` this
test starts on 127.0.0.1, with ``allow_private`` on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.certificates import self_signed
from tests.webhook_receiver import WebhookReceiver
from visiovox.config_webhooks import WebhookSettings
from visiovox.webhooks.client import Attempt, WebhookClient, WebhookTrustError
from visiovox.webhooks.target import IPAddress


class StubResolver:
    """Maps names to fixed addresses and records every lookup; never touches DNS."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        return [ipaddress.ip_address(self.table[host])]


def _post(client: WebhookClient, url: str, *, patch: pytest.MonkeyPatch | None = None) -> Attempt:
    """``client.post`` on a fresh loop; with ``patch``, every socket call is recorded and refused
    once the loop runs (the loop's own self-pipe is made before)."""
    opened: list[str] = []

    def refuse(name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            opened.append(name)
            raise AssertionError(f"socket.{name} called")

        return call

    async def run() -> Attempt:
        if patch is not None:
            for name in ("socket", "create_connection", "getaddrinfo"):
                patch.setattr(socket, name, refuse(name))
        try:
            return await client.post(url, body=b"{}", headers={"webhook-id": "msg_t"})
        finally:
            if patch is not None:
                patch.undo()
            await client.aclose()

    attempt = asyncio.run(run())
    assert opened == []
    return attempt


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    started = WebhookReceiver().start()
    yield started
    started.stop()


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://loopback.example/hook",
        "https://metadata.example/hook",
    ],
)
def test_private_targets_are_refused_before_any_socket(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = {"loopback.example": "127.0.0.1", "metadata.example": "169.254.169.254"}
    resolver = StubResolver(table)
    client = WebhookClient(WebhookSettings(), resolver=resolver)
    attempt = _post(client, url, patch=monkeypatch)
    assert attempt.refused and attempt.status_code is None
    assert "not a public address" in (attempt.error or "")
    if "example" in url:
        assert resolver.asked == [url.split("/")[2]]  # resolved once, by the stub only


def test_http_is_refused_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    client = WebhookClient(WebhookSettings(), resolver=StubResolver({}))
    attempt = _post(client, "http://hooks.example/hook", patch=monkeypatch)
    assert attempt.refused and "https://" in (attempt.error or "")


def test_connects_to_the_pinned_address_with_the_name_as_host(receiver: WebhookReceiver) -> None:
    resolver = StubResolver({"hooks.example": "127.0.0.1"})
    settings = WebhookSettings(allow_private=True, allow_http=True)
    client = WebhookClient(settings, resolver=resolver)
    attempt = _post(client, f"http://hooks.example:{receiver.port}/hook?token=t")
    assert attempt.ok and attempt.status_code == 200
    [request] = receiver.wait_for(1, timeout_s=5)
    assert request.headers["host"] == f"hooks.example:{receiver.port}"
    assert request.path == "/hook?token=t"
    assert resolver.asked == ["hooks.example"]


def test_redirects_are_not_followed() -> None:
    receiver = WebhookReceiver(answers=[(302, {"location": "http://127.0.0.1:1/elsewhere"})])
    receiver.start()
    try:
        client = WebhookClient(WebhookSettings(allow_private=True, allow_http=True))
        attempt = _post(client, receiver.url)
        assert attempt.status_code == 302 and not attempt.ok
        assert len(receiver.wait_for(1, timeout_s=5)) == 1
    finally:
        receiver.stop()


def test_retry_after_is_read() -> None:
    receiver = WebhookReceiver(answers=[(429, {"retry-after": "7"})]).start()
    try:
        client = WebhookClient(WebhookSettings(allow_private=True, allow_http=True))
        attempt = _post(client, receiver.url)
        assert attempt.status_code == 429 and attempt.retry_after_s == 7.0
    finally:
        receiver.stop()


def test_a_slow_receiver_times_out() -> None:
    receiver = WebhookReceiver(delay_s=2.0).start()
    try:
        settings = WebhookSettings(allow_private=True, allow_http=True, timeout_s=0.3)
        attempt = _post(WebhookClient(settings), receiver.url)
        assert attempt.status_code is None and not attempt.refused
        assert attempt.duration_s < 1.5
    finally:
        receiver.stop()


def test_a_huge_answer_is_read_only_up_to_the_cap() -> None:
    receiver = WebhookReceiver(reply_bytes=50_000_000).start()
    try:
        settings = WebhookSettings(allow_private=True, allow_http=True, max_response_bytes=1024)
        attempt = _post(WebhookClient(settings), receiver.url)
        assert attempt.status_code == 200
        assert attempt.duration_s < 2.0
    finally:
        receiver.stop()


def test_tls_to_the_pinned_address_is_verified_against_the_name(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "hooks.example")
    trust = ssl.create_default_context(cafile=str(cert))
    receiver = WebhookReceiver(tls=(cert, key)).start()
    try:
        resolver = StubResolver({"hooks.example": "127.0.0.1", "other.example": "127.0.0.1"})
        settings = WebhookSettings(allow_private=True)
        good = _post(
            WebhookClient(settings, resolver=resolver, trust=trust),
            f"https://hooks.example:{receiver.port}/hook",
        )
        assert good.status_code == 200
        # The same address under a name its certificate does not hold: refused by TLS.
        wrong = _post(
            WebhookClient(settings, resolver=resolver, trust=trust),
            f"https://other.example:{receiver.port}/hook",
        )
        assert wrong.status_code is None and not wrong.refused
        assert "CERTIFICATE_VERIFY_FAILED" in (wrong.error or "")
    finally:
        receiver.stop()


def test_a_ca_file_is_trusted_beside_the_public_roots(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "127.0.0.1")
    receiver = WebhookReceiver(tls=(cert, key)).start()
    try:
        trusted = _post(
            WebhookClient(WebhookSettings(allow_private=True, ca_file=cert)), receiver.url
        )
        assert trusted.status_code == 200
        public_only = _post(WebhookClient(WebhookSettings(allow_private=True)), receiver.url)
        assert "CERTIFICATE_VERIFY_FAILED" in (public_only.error or "")
        assert len(receiver.received) == 1
    finally:
        receiver.stop()


def test_a_ca_file_must_hold_certificates(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="is not a file"):
        WebhookSettings(ca_file=tmp_path / "missing.pem")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(WebhookTrustError, match="no readable PEM certificate"):
        WebhookClient(WebhookSettings(ca_file=garbage))
