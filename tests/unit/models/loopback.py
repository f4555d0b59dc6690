"""A loopback HTTP server for model downloads: a plain mirror and enough of the Hugging Face Hub.

Any path in ``files`` is served with Range support. A path holding
``/resolve/`` also answers HEAD the way ``huggingface_hub`` expects (ETag,
X-Repo-Commit, Content-Length). Every GET is recorded with its Range header;
``cut_first_get_after`` closes the first GET of each path after that many
bytes, as a dropped connection would; ``stall_first_get_after`` goes silent
there for ``stall_s`` instead; ``chunk_delay_s`` slows the body; ``gzip``
sends whole bodies gzip-encoded (as some CDNs do, asked or not).
"""

from __future__ import annotations

import gzip as gzip_codec
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"
_CHUNK = 64 * 1024


@dataclass
class Mirror:
    """What the server serves and what it saw."""

    files: dict[str, bytes]
    cut_first_get_after: int | None = None
    honour_range: bool = True
    chunk_delay_s: float = 0.0
    stall_first_get_after: int | None = None
    stall_s: float = 0.0
    gzip: bool = False
    gets: list[tuple[str, str | None]] = field(default_factory=list)
    heads: list[str] = field(default_factory=list)
    # The Authorization header of every request (HEAD or GET), None when absent.
    authorizations: list[str | None] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def gets_of(self, path: str) -> list[str | None]:
        """The Range header of every GET of ``path``."""
        with self._lock:
            return [rng for seen, rng in self.gets if seen == path]

    def record_get(self, path: str, rng: str | None) -> bool:
        """Record a GET; True if it is the first one of ``path``."""
        with self._lock:
            first = all(seen != path for seen, _ in self.gets)
            self.gets.append((path, rng))
            return first


def _handler(mirror: Mirror) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read ``mirror.gets`` instead."""

        def do_HEAD(self) -> None:
            path = self.path.split("?")[0]
            with mirror._lock:
                mirror.heads.append(path)
                mirror.authorizations.append(self.headers.get("Authorization"))
            body = mirror.files.get(path)
            if body is None:
                self._not_found()
                return
            self.send_response(200)
            self._common_headers(path, body)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            rng = self.headers.get("Range")
            first = mirror.record_get(path, rng)
            with mirror._lock:
                mirror.authorizations.append(self.headers.get("Authorization"))
            body = mirror.files.get(path)
            if body is None:
                self._not_found()
                return
            start = 0
            if rng and mirror.honour_range:
                start = int(rng.removeprefix("bytes=").split("-")[0])
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            part = body[start:]
            self._common_headers(path, body)
            if mirror.gzip and not start:
                part = gzip_codec.compress(part)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(part)))
            self.end_headers()
            limit = mirror.cut_first_get_after if first else None
            stall = mirror.stall_first_get_after if first else None
            sent = 0
            while sent < len(part):
                end = min(len(part), sent + _CHUNK)
                if stall is not None and end >= stall:
                    self.wfile.write(part[sent:stall])
                    self.wfile.flush()
                    time.sleep(mirror.stall_s)
                    self.close_connection = True
                    return
                if limit is not None and end >= limit:
                    self.wfile.write(part[sent:limit])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(part[sent:end])
                sent = end
                if mirror.chunk_delay_s:
                    time.sleep(mirror.chunk_delay_s)

        def _common_headers(self, path: str, body: bytes) -> None:
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "application/octet-stream")
            if "/resolve/" in path:
                self.send_header("ETag", f'"{hashlib.sha256(body).hexdigest()}"')
                self.send_header("X-Repo-Commit", COMMIT)

        def _not_found(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@contextmanager
def serve(mirror: Mirror) -> Iterator[Mirror]:
    """Serve ``mirror`` on 127.0.0.1 (a free port) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(mirror))
    server.daemon_threads = True
    mirror.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield mirror
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
