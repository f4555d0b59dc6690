"""API keys: issued once in plaintext, stored only as a sha256 digest, each with an owner.

A key is ``vvk_`` plus a URL-safe random token. Redis holds
``{prefix}:apikey:{sha256 hex}`` → hash ``owner``, ``name``, ``created_at``, so a
leaked database does not leak usable keys.
"""

from __future__ import annotations

import hashlib
import secrets
import time

import redis

from visiovox.jobs.keys import RedisKeys

KEY_PREFIX = "vvk_"


def key_digest(key: str) -> str:
    """The sha256 hex digest a key is stored under."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyStore:
    """Creates, resolves and revokes API keys."""

    def __init__(self, client: redis.Redis, *, keys: RedisKeys) -> None:
        self._redis = client
        self._keys = keys

    def create(self, owner: str, name: str = "") -> str:
        """A new key for ``owner``; the plaintext is returned here and never again."""
        if not owner:
            raise ValueError("an API key needs an owner")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        self._redis.hset(
            self._keys.api_key(key_digest(key)),
            mapping={"owner": owner, "name": name, "created_at": repr(time.time())},
        )
        return key

    def resolve(self, key: str) -> str | None:
        """The owner of ``key``, or None when it is unknown or revoked."""
        if not key.startswith(KEY_PREFIX):
            return None
        owner = self._redis.hget(self._keys.api_key(key_digest(key)), "owner")
        return owner.decode() if isinstance(owner, bytes) else owner

    def revoke(self, key: str) -> bool:
        """Forget ``key``; returns whether it existed."""
        return bool(self._redis.delete(self._keys.api_key(key_digest(key))))
