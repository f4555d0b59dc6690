"""API keys: issued once in plaintext, stored only as a sha256 digest, each with an owner.

A key is ``vvk_`` plus a URL-safe random token. Redis holds
``{prefix}:apikey:{sha256 hex}`` → hash ``owner``, ``name``, ``created_at``, so a
leaked database does not leak usable keys, and the limits given to the key
(``config.KeyLimits`` field names: ``rate_per_s``, ``burst``, ``max_queued``, ...).
A limit the key was not given is the configured default (``limits.key``), so
keys made before limits existed, and keys made without options, follow the
configuration. ``resolve`` reads the whole hash in one round trip. Each key
also holds ``webhook_secret``, the ``whsec_…`` secret that signs the webhooks
of its jobs: made with the key, shown once, rotatable.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio
from redis.typing import EncodableT, FieldT

from visiovox.config_limits import KeyLimits
from visiovox.config_webhooks import new_signing_secret
from visiovox.jobs.keys import RedisKeys, as_text

KEY_PREFIX = "vvk_"
LIMIT_FIELDS = frozenset(KeyLimits.model_fields)
WEBHOOK_SECRET_FIELD = "webhook_secret"


def key_digest(key: str) -> str:
    """The sha256 hex digest a key is stored under."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """A key as stored: never its secret, only its digest."""

    digest: str
    owner: str
    name: str
    created_at: float
    limits: KeyLimits
    # The limits the key was given itself; the others are the defaults.
    own_limits: frozenset[str]


class UnknownKey(LookupError):
    """No key, or more than one, matches a digest prefix."""


def _encoded(limits: Mapping[str, Any]) -> dict[FieldT, EncodableT]:
    unknown = set(limits) - LIMIT_FIELDS
    if unknown:
        raise ValueError(f"unknown limit(s): {', '.join(sorted(unknown))}")
    KeyLimits.model_validate(dict(limits))  # refuses bad values before anything is stored
    return {
        name: str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in limits.items()
    }


class ApiKeyStore:
    """Creates, resolves, lists, edits and revokes API keys."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        keys: RedisKeys,
        defaults: KeyLimits | None = None,
        aclient: redis.asyncio.Redis | None = None,
    ) -> None:
        self._redis = client
        self._aredis = aclient  # for ``aresolve`` on a gateway's event loop
        self._keys = keys
        self._defaults = defaults or KeyLimits()

    def create(self, owner: str, name: str = "", limits: Mapping[str, Any] | None = None) -> str:
        """A new key for ``owner``; the plaintext is returned here and never again."""
        if not owner:
            raise ValueError("an API key needs an owner")
        own = _encoded(limits or {})
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        self._redis.hset(
            self._keys.api_key(key_digest(key)),
            mapping={
                "owner": owner,
                "name": name,
                "created_at": repr(time.time()),
                WEBHOOK_SECRET_FIELD: new_signing_secret(),
                **own,
            },
        )
        return key

    def webhook_secret(self, digest: str) -> str | None:
        """The secret that signs the webhooks of the key's jobs (None: no such key)."""
        value = self._redis.hget(self._keys.api_key(digest), WEBHOOK_SECRET_FIELD)
        return as_text(value) if value is not None else None

    def rotate_webhook_secret(self, digest_prefix: str) -> str:
        """A new webhook secret for the one key matching ``digest_prefix``; ``UnknownKey``."""
        digest = self.find(digest_prefix)
        secret = new_signing_secret()
        self._redis.hset(self._keys.api_key(digest), WEBHOOK_SECRET_FIELD, secret)
        return secret

    def resolve(self, key: str) -> ApiKey | None:
        """The key's record, or None when it is unknown or revoked."""
        if not key.startswith(KEY_PREFIX):
            return None
        digest = key_digest(key)
        return self.decode(digest, self._redis.hgetall(self._keys.api_key(digest)))

    async def aresolve(self, key: str) -> ApiKey | None:
        """``resolve`` on the event loop's client (given as ``aclient``)."""
        if self._aredis is None:
            raise RuntimeError("ApiKeyStore was made without an asyncio client")
        if not key.startswith(KEY_PREFIX):
            return None
        digest = key_digest(key)
        return self.decode(digest, await self._aredis.hgetall(self._keys.api_key(digest)))

    def update(self, digest_prefix: str, limits: Mapping[str, Any]) -> ApiKey:
        """Set limits of the one key whose digest starts with ``digest_prefix`` (or of a key)."""
        digest = self.find(digest_prefix)
        self._redis.hset(self._keys.api_key(digest), mapping=_encoded(limits))
        found = self.decode(digest, self._redis.hgetall(self._keys.api_key(digest)))
        assert found is not None
        return found

    def find(self, digest_prefix: str) -> str:
        """The digest of the one key matching a digest prefix or a whole key; ``UnknownKey``."""
        if digest_prefix.startswith(KEY_PREFIX):
            digest_prefix = key_digest(digest_prefix)
        if not digest_prefix.isalnum():
            raise UnknownKey(f"{digest_prefix!r} is not a key digest prefix")
        start = len(self._keys.api_key(""))
        found = [
            as_text(name)[start:]
            for name in self._redis.scan_iter(match=self._keys.api_key(f"{digest_prefix}*"))
        ]
        if len(found) != 1:
            raise UnknownKey(f"{len(found)} keys match {digest_prefix!r}; give a unique prefix")
        return found[0]

    def all_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""
        start = len(self._keys.api_key(""))
        records = []
        for name in self._redis.scan_iter(match=self._keys.api_key_pattern):
            record = self.decode(as_text(name)[start:], self._redis.hgetall(name))
            if record is not None:
                records.append(record)
        return sorted(records, key=lambda record: record.created_at)

    def revoke(self, key: str) -> bool:
        """Forget ``key``; returns whether it existed."""
        return bool(self._redis.delete(self._keys.api_key(key_digest(key))))

    @property
    def defaults(self) -> KeyLimits:
        """The limits of a key that was not given its own."""
        return self._defaults

    def decode(self, digest: str, raw: Mapping[Any, Any]) -> ApiKey | None:
        """A key's record from its stored hash (None: no such key)."""
        fields = {as_text(name): as_text(value) for name, value in raw.items()}
        if "owner" not in fields:
            return None
        own = {name: value for name, value in fields.items() if name in LIMIT_FIELDS}
        limits = (
            self._defaults.model_copy(
                update=KeyLimits.model_validate(own).model_dump(include=set(own))
            )
            if own
            else self._defaults
        )
        return ApiKey(
            digest=digest,
            owner=fields["owner"],
            name=fields.get("name", ""),
            created_at=float(fields.get("created_at") or 0),
            limits=limits,
            own_limits=frozenset(own),
        )
