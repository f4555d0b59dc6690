"""Who is calling: the API key in ``Authorization: Bearer``, ``X-API-Key`` or ``?api_key=``.

The query parameter is read for WebSocket only (browsers cannot set headers there).

With auth off every caller is the owner ``anonymous``. With auth on a missing
or unknown key is a 401 ``unauthorized`` carrying ``WWW-Authenticate: Bearer``.
Each call is also the request's rate-limit check (``api/ratelimit.py``): the
key's bucket, taken with the key's record in one round trip (one Lua step on
the event loop's client), or the client address's
for requests without a valid key and for everyone when auth is off.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from visiovox.api.errors import ApiError
from visiovox.api.ratelimit import UNLIMITED, CallerLimits, RequestLimiter
from visiovox.jobs.apikeys import ApiKey, ApiKeyStore

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Caller:
    """The authenticated owner of a request; every read of a job checks it."""

    owner: str
    # Whose buckets it draws on (``key:<digest>``, ``addr:<ip>``) and what it may do.
    identity: str = ""
    limits: CallerLimits = UNLIMITED
    # The digest of the caller's API key (None: auth is off); its secret signs webhooks.
    key_digest: str | None = None


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
    """Tells who calls; ``api_keys`` None means auth is off (decided once, at start-up).

    ``limiter`` None: no rate limits (``limits.enabled`` false).
    """

    api_keys: ApiKeyStore | None
    limiter: RequestLimiter | None = None

    async def caller(self, conn: HTTPConnection, *, allow_query: bool = False) -> Caller:
        """The caller of ``conn``; raises a 401 ``ApiError`` when auth is on and the key is bad,
        a 429 when the caller's request bucket is empty."""
        if self.api_keys is None:
            return await self._admitted(conn, ANONYMOUS, record=None)
        key = presented_key(conn, allow_query=allow_query)
        if key and self.limiter is not None:  # the key and its token in one round trip
            record = await self.limiter.admit_key(conn, key, self.api_keys)
            if record is not None:
                identity, limits = self.limiter.for_key(record)
                return Caller(
                    owner=record.owner, identity=identity, limits=limits, key_digest=record.digest
                )
        else:
            record = await self.api_keys.aresolve(key) if key else None
        if record is None:
            await self._admitted(conn, ANONYMOUS, record=None)  # a 429 for a guessing address
            if key is None:
                raise unauthorized("an API key is required (Authorization: Bearer <key>)")
            raise unauthorized("the API key is unknown or revoked")
        return await self._admitted(conn, record.owner, record=record)

    async def _admitted(self, conn: HTTPConnection, owner: str, *, record: ApiKey | None) -> Caller:
        """The caller, once its request took a token (``limiter`` None: no limits)."""
        digest = record.digest if record is not None else None
        if self.limiter is None:
            return Caller(owner=owner, key_digest=digest)
        if record is None:
            identity, limits = self.limiter.for_address(conn)
        else:
            identity, limits = self.limiter.for_key(record)
        await self.limiter.admit(conn, identity=identity, limits=limits)
        return Caller(owner=owner, identity=identity, limits=limits, key_digest=digest)
