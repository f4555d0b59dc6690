"""The SSRF-safe delivery client: refusals before any socket, pinning, redirects, caps.

Refusals run with ``allow_private`` off and ``socket`` patched to record and
refuse every socket, connection and resolution: the assertion is that none
was attempted. Everything that connects goes to a ``WebhookReceiver`` this
test starts on 127.0.0.1, with ``allow_private`` on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.tools import missing_tool
from tests.webhook_receiver import WebhookReceiver
from visiovox.config_webhooks import WebhookSettings
from visiovox.webhooks.client import Attempt, WebhookClient
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


def _tls_receiver(tmp_path: Path, name: str) -> tuple[ThreadingHTTPServer, ssl.SSLContext]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate for ``name``, and the trust
    that verifies it."""
    if shutil.which("openssl") is None:
        missing_tool("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}"]
    subprocess.run(
        [*command, "-addext", f"subjectAltName=DNS:{name}"],
        check=True,
        capture_output=True,
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, ssl.create_default_context(cafile=str(cert))


def test_tls_to_the_pinned_address_is_verified_against_the_name(tmp_path: Path) -> None:
    server, trust = _tls_receiver(tmp_path, "hooks.example")
    port = server.server_address[1]
    try:
        resolver = StubResolver({"hooks.example": "127.0.0.1", "other.example": "127.0.0.1"})
        settings = WebhookSettings(allow_private=True)
        good = _post(
            WebhookClient(settings, resolver=resolver, trust=trust),
            f"https://hooks.example:{port}/hook",
        )
        assert good.status_code == 204
        # The same address under a name its certificate does not hold: refused by TLS.
        wrong = _post(
            WebhookClient(settings, resolver=resolver, trust=trust),
            f"https://other.example:{port}/hook",
        )
        assert wrong.status_code is None and not wrong.refused
        assert "CERTIFICATE_VERIFY_FAILED" in (wrong.error or "")
    finally:
        server.shutdown()
        server.server_close()
