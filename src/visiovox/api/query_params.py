"""Refusing a scalar query parameter sent more than once, for every route in one place.

Starlette keeps every value of a repeated query parameter and FastAPI hands a
scalar parameter the last one, so ``?limit=1&limit=2`` (or ``api_key`` twice on
a WebSocket) was quietly read as one value. ``RepeatedQueryParams`` refuses a
repeat before any route runs, in the same 422 ``repeated_field`` answer as a
repeated form field (``api/multipart.py``): an HTTP request gets the JSON error;
a WebSocket is accepted and closed with 4422 ``repeated_field``, as every refusal
of the live routes reads. Only names ending in ``[]`` are lists and may repeat
(no route takes one yet). A query string without ``&`` cannot repeat anything, so
most requests cost one byte search.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Receive, Scope, Send

from visiovox.api.errors import error_response

REPEATED_FIELD = "repeated_field"
# The close code of a refused WebSocket: 4000 + the HTTP status, as api/routes/live.py does.
WS_REFUSED = 4000 + 422


def repeated_name(query_string: bytes) -> str | None:
    """The first scalar parameter named more than once in ``query_string``, if any."""
    if b"&" not in query_string:
        return None
    seen: set[str] = set()
    # Names read as Starlette's parse_qsl reads them for request.query_params (so
    # ``%6Cimit`` is ``limit``), but one at a time: 5,000 copies stop at the second.
    for pair in query_string.decode("latin-1").split("&"):
        if not pair:
            continue
        name = pair.partition("=")[0]
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if name in seen and not name.endswith("[]"):
            return name
        seen.add(name)
    return None


def repeated_message(name: str) -> str:
    return f"the query parameter {name[:64]!r} was sent more than once"


class RepeatedQueryParams:
    """ASGI middleware: 422 ``repeated_field`` (WebSocket: close 4422) for a repeated scalar."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = None
        if scope["type"] in ("http", "websocket"):
            name = repeated_name(scope.get("query_string", b""))
        if name is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            response = error_response(422, REPEATED_FIELD, repeated_message(name))
            await response(scope, receive, send)
        else:
            if (await receive())["type"] != "websocket.connect":
                return
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": WS_REFUSED, "reason": REPEATED_FIELD})
