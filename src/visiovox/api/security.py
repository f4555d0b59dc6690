"""Who is calling: the API key in ``Authorization: Bearer``, ``X-API-Key`` or ``?api_key=``.

The query parameter is read for WebSocket only (browsers cannot set headers there).

With auth off every caller is the owner ``anonymous``. With auth on a missing
or unknown key is a 401 ``unauthorized`` carrying ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from visiovox.api.errors import ApiError
from visiovox.jobs.apikeys import ApiKeyStore

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Caller:
    """The authenticated owner of a request; every read of a job checks it."""

    owner: str


def presented_key(conn: HTTPConnection, *, allow_query: bool = False) -> str | None:
    """The API key the client sent, if any."""
    authorization = conn.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    header_key = conn.headers.get("x-api-key")
    if header_key:
        return header_key.strip()
    if allow_query:
        return conn.query_params.get("api_key") or None
    return None


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True)
class Authenticator:
    """Tells who calls; ``api_keys`` None means auth is off (decided once, at start-up)."""

    api_keys: ApiKeyStore | None

    async def caller(self, conn: HTTPConnection, *, allow_query: bool = False) -> Caller:
        """The caller of ``conn``; raises a 401 ``ApiError`` when auth is on and the key is bad."""
        if self.api_keys is None:
            return Caller(owner=ANONYMOUS)
        key = presented_key(conn, allow_query=allow_query)
        if key is None:
            raise unauthorized("an API key is required (Authorization: Bearer <key>)")
        owner = await run_in_threadpool(self.api_keys.resolve, key)
        if owner is None:
            raise unauthorized("the API key is unknown or revoked")
        return Caller(owner=owner)
