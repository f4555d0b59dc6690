"""The gateway's HTTP/1.1 protocol: uvicorn's httptools protocol with bounded headers and bodies.

uvicorn has no header-read timeout and httptools no header-size cap, so a client
could hold a connection (and a file descriptor) for ever by sending a header a
byte at a time, or have a 120 MB header buffered whole. This subclass, chosen
over h11 and a front server (``docs/benchmarks.md``: h11 bounds the size only,
and the embedded default has no front server), adds three bounds:

- ``header_timeout_s``: a request's line and headers must be in within this
  long of its first byte (of the connection's opening, for the first request);
  else the connection is closed.
- ``max_header_bytes``: a request line and headers over this many bytes answer
  431 ``header_too_large`` in the JSON error shape, and the connection closes
  once the client stops sending (at most ``LINGER_S`` later: closing on unread
  bytes would reset the connection and could lose the answer).
- ``body_idle_timeout_s``: a body that stops arriving for this long closes the
  connection. The app then reads a disconnect, so an upload's file is removed.
  The clock stops while the gateway itself is not reading (back-pressure, or a
  client waiting for ``100 Continue``).

A request httptools cannot parse (a malformed request line, a control character
in a header, broken chunked framing, conflicting lengths) is answered 400
``invalid_http`` in the JSON error shape too, where uvicorn answers text/plain.
After a response, uvicorn's keep-alive timeout closes an idle connection; a
WebSocket, once upgraded, is the WebSocket protocol's.
"""

from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import dataclass
from typing import Any, cast

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from visiovox.api.errors import error_body
from visiovox.config import GatewaySettings

# Seconds a refused connection is read and discarded before it is closed.
LINGER_S = 1.0
# httptools names the rule broken only in its exception, which uvicorn does not pass on.
INVALID_HTTP_MESSAGE = (
    "the request is not valid HTTP/1.1 (its request line, a header or the body's framing)"
)


@dataclass(frozen=True, kw_only=True)
class HttpLimits:
    """How long a request's headers may take, how large they may be, how long a body may stall."""

    header_timeout_s: float
    max_header_bytes: int
    body_idle_timeout_s: float

    @classmethod
    def from_settings(cls, gateway: GatewaySettings) -> HttpLimits:
        return cls(
            header_timeout_s=gateway.header_timeout_s,
            max_header_bytes=gateway.max_header_bytes,
            body_idle_timeout_s=gateway.body_idle_timeout_s,
        )


class GatewayHttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with a header deadline, a header-size cap and a body idle timeout."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: HttpLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits = limits
        self._reading_headers = True
        self._body_pending = False
        self._refused = False
        self._header_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer = self.loop.call_later(self._limits.header_timeout_s, self._close)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._reading_headers:
            self._header_bytes += len(data)
        elif self._body_timer is not None:
            self._restart_body_timer()
        super().data_received(data)
        # Timers start only for what this chunk left unfinished: a request that came
        # whole in one read (most do) costs none. Counted after parsing, as the
        # chunk that ends the headers may carry body bytes.
        if self._reading_headers and self._header_bytes:
            if self._header_bytes > self._limits.max_header_bytes:
                self._refuse_headers()
            elif self._header_timer is None:
                self._header_timer = self.loop.call_later(
                    self._limits.header_timeout_s, self._close
                )
        elif self._body_pending and self._body_timer is None:
            self._restart_body_timer()

    def on_headers_complete(self) -> None:
        self._reading_headers, self._body_pending = False, True
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        self._reading_headers, self._body_pending, self._header_bytes = True, False, 0

    def handle_websocket_upgrade(self) -> None:
        self._stop_timers()
        self._body_pending = False
        super().handle_websocket_upgrade()

    def _restart_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
        self._body_timer = self.loop.call_later(self._limits.body_idle_timeout_s, self._body_idle)

    def _body_idle(self) -> None:
        self._body_timer = None
        cycle = self.cycle
        waiting_for_us = self.flow.read_paused or (
            cycle is not None and cycle.waiting_for_100_continue
        )
        if waiting_for_us:
            self._restart_body_timer()
        else:
            self._close()

    def _close(self) -> None:
        self._stop_timers()
        if not self.transport.is_closing():
            self.transport.close()

    def _stop_timers(self) -> None:
        for timer in (self._header_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._header_timer = self._body_timer = None

    def _refuse_headers(self) -> None:
        """431 in the JSON error shape; what the client still sends is discarded, then close."""
        self._stop_timers()
        self._reading_headers, self._body_pending, self._refused = False, False, True
        if self.transport.is_closing():
            return
        cap = self._limits.max_header_bytes
        message = f"the request line and headers are over {cap} bytes"
        self.transport.write(self._json_error(431, "header_too_large", message))
        self.transport.write_eof()
        self._header_timer = self.loop.call_later(LINGER_S, self._close)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request httptools cannot parse, in the JSON error shape."""
        self._stop_timers()
        self.transport.write(self._json_error(400, "invalid_http", INVALID_HTTP_MESSAGE))
        self.transport.close()

    def _json_error(self, status: int, code: str, message: str) -> bytes:
        """A whole ``connection: close`` response carrying ``error_body(code, message)``."""
        body = json.dumps(error_body(code, message)).encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        return b"".join([*head, body])


def gateway_protocol(gateway: GatewaySettings) -> type[asyncio.Protocol]:
    """What ``uvicorn.run(http=...)`` takes: ``GatewayHttpProtocol`` bound to the limits.

    A ``functools.partial``, not a class made here: with several gateway processes
    uvicorn pickles it into each, which needs a name it can import.
    """
    bound = functools.partial(GatewayHttpProtocol, limits=HttpLimits.from_settings(gateway))
    return cast("type[asyncio.Protocol]", bound)  # uvicorn only calls it, as it would a class
