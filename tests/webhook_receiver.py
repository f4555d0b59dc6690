"""A real webhook receiver on loopback for tests and benchmarks: records what it is sent.

A threaded HTTP/1.1 server on 127.0.0.1 (keep-alive, so a benchmark measures
the deliverer, not connection set-up). ``answers`` scripts the first replies
(a status, or a status and headers); every later one is ``default``. With
``tls`` (a certificate and its key, PEM) it serves HTTPS.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Answer = int | tuple[int, dict[str, str]]


@dataclass(frozen=True)
class Received:
    """One request as it arrived, with the wall time it arrived at."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class WebhookReceiver:
    """Listens on ``port`` (0: any free one) until ``stop``; restartable on the same port."""

    def __init__(
        self,
        *,
        port: int = 0,
        answers: list[Answer] | None = None,
        default: int = 200,
        delay_s: float = 0.0,
        reply_bytes: int = 0,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.port = port
        self.answers = list(answers or [])
        self.default = default
        self.delay_s = delay_s
        self.reply_bytes = reply_bytes
        self.tls = tls
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/hook"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver._record(Received(self.path, headers, body, time.time()))
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                status, extra = receiver._next_answer()
                reply = b"x" * receiver.reply_bytes
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client stopped reading (a cap)
                    self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _record(self, item: Received) -> None:
        with self._lock:
            self.received.append(item)

    def _next_answer(self) -> tuple[int, dict[str, str]]:
        with self._lock:
            answer = self.answers.pop(0) if self.answers else self.default
        return (answer, {}) if isinstance(answer, int) else answer

    def wait_for(self, count: int, *, timeout_s: float) -> list[Received]:
        """The requests once there are ``count`` of them; ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        raise TimeoutError(f"{len(self.received)} webhook requests, not {count}, in {timeout_s}s")
