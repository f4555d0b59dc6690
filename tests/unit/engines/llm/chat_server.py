"""A loopback OpenAI-compatible chat server with one behaviour per failure mode.

``ChatServer.behaviour`` picks what ``POST /v1/chat/completions`` does:
``stream`` answers the given ``pieces`` as SSE chunks, then a usage chunk and
``[DONE]``; ``status`` answers ``status_code`` with an OpenAI error body carrying
``error`` (default: ``{"message": "status <code>"}``) as its ``error``;
``drop`` closes the connection without answering; ``drop_mid_stream`` sends
one chunk and closes; ``stall`` sends nothing for ``stall_s``; ``stall_mid_stream``
sends one chunk then goes silent; ``error_frame`` streams one chunk then a
``data: {"error": ...}`` frame. Every request's JSON body and Authorization
header are recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ChatServer:
    """What the server does and what it saw."""

    behaviour: str = "stream"
    pieces: tuple[str, ...] = ("Paris", " is", " the capital", ".")
    status_code: int = 200
    stall_s: float = 3.0
    error: dict[str, Any] | None = None
    bodies: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    base_url: str = ""


def _chunk(**choice: Any) -> bytes:
    body = {"object": "chat.completion.chunk", "choices": [{"index": 0, **choice}]}
    return f"data: {json.dumps(body)}\n\n".encode()


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read ``server.bodies`` instead."""

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            server.bodies.append(json.loads(self.rfile.read(length)))
            server.authorizations.append(self.headers.get("Authorization"))
            behaviour = server.behaviour
            if behaviour == "drop":
                self.close_connection = True
                return
            if behaviour == "stall":
                time.sleep(server.stall_s)
                return
            if behaviour == "status":
                error = server.error or {"message": f"status {server.status_code}", "type": "x"}
                message = {"error": error}
                payload = json.dumps(message).encode()
                self.send_response(server.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._send(_chunk(delta={"role": "assistant", "content": ""}))
            self._send(_chunk(delta={"content": server.pieces[0]}))
            if behaviour == "drop_mid_stream":
                self.close_connection = True
                self.wfile.flush()
                return
            if behaviour == "stall_mid_stream":
                time.sleep(server.stall_s)
                return
            if behaviour == "error_frame":
                self._send(b'data: {"error": {"code": "boom", "message": "the GPU fell over"}}\n\n')
                self._end()
                return
            self._send(b": keep-alive\n\n")
            for piece in server.pieces[1:]:
                self._send(_chunk(delta={"content": piece}))
            self._send(_chunk(delta={}, finish_reason="stop"))
            usage = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
            self._send(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n".encode())
            self._send(b"data: [DONE]\n\n")
            self._end()

        def _send(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _end(self) -> None:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up on a stalled answer is the point of those tests, not news."""


@contextmanager
def serve_chat(server: ChatServer) -> Iterator[ChatServer]:
    """Run ``server`` on a free loopback port for the block; ``server.base_url`` ends in /v1."""
    httpd = _QuietServer(("127.0.0.1", 0), _handler(server))
    server.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
