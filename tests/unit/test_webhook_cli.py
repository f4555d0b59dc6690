"""``visiovox webhooks secret`` and the webhook secrets of ``visiovox keys``, as processes."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid

import redis

from visiovox.config_webhooks import new_signing_secret
from visiovox.embedded_redis import EmbeddedRedis
from visiovox.jobs.apikeys import key_digest


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "visiovox", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def _env(server: EmbeddedRedis, **extra: str) -> dict[str, str]:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    return {
        **os.environ,
        "VISIOVOX_REDIS__URL": server.url,
        "VISIOVOX_REDIS__PREFIX": prefix,
        **extra,
    }


def test_the_deployment_secret_is_generated_once_and_kept(redis_server: EmbeddedRedis) -> None:
    env = _env(redis_server)
    first = _run(["webhooks", "secret"], env).stdout.strip()
    assert first.startswith("whsec_") and len(base64.b64decode(first[6:])) == 32
    assert _run(["webhooks", "secret"], env).stdout.strip() == first


def test_a_configured_secret_is_the_one_shown(redis_server: EmbeddedRedis) -> None:
    secret = new_signing_secret()
    env = _env(redis_server, VISIOVOX_WEBHOOKS__SIGNING_SECRET=secret)
    assert _run(["webhooks", "secret"], env).stdout.strip() == secret


def test_keys_create_shows_the_keys_secret_once_and_rotate_replaces_it(
    redis_server: EmbeddedRedis,
) -> None:
    env = _env(redis_server)
    created = _run(["keys", "create", "--owner", "alice"], env)
    key = created.stdout.strip()  # stdout is the key alone, for scripts
    assert key.startswith("vvk_")
    shown = created.stderr.strip().rsplit(" ", 1)[-1]
    stored = redis.Redis.from_url(redis_server.url).hget(
        f"{env['VISIOVOX_REDIS__PREFIX']}:apikey:{key_digest(key)}", "webhook_secret"
    )
    assert shown.startswith("whsec_") and stored == shown.encode()
    rotated = _run(["keys", "rotate-webhook-secret", key], env).stdout.strip()
    assert rotated.startswith("whsec_") and rotated != shown
