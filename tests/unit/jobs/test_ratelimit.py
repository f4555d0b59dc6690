"""The token bucket's maths, run by its Lua on a real Redis with the clock driven by the test."""

from __future__ import annotations

import asyncio

import pytest
import redis

from tests.unit.jobs.helpers import async_client
from visiovox.config_limits import KeyLimits
from visiovox.jobs.apikeys import ApiKeyStore, key_digest
from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.ratelimit import TAKE, Bucket, BucketKind, RateLimiter, Verdict
from visiovox.jobs.redis_client import JobDomain

BUCKET = Bucket(rate_per_s=2.0, burst=4)


def take(client: redis.Redis, key: str, now: float, bucket: Bucket = BUCKET) -> Verdict:
    reply = client.eval(TAKE, 1, key, repr(bucket.rate_per_s), bucket.burst, repr(now))
    return Verdict.from_reply(reply, limit=bucket.burst)


def test_a_full_bucket_gives_its_burst_then_refuses(domain: JobDomain) -> None:
    key = domain.keys.rate("addr:1.2.3.4", "req")
    taken = [take(domain.redis, key, now=100.0) for _ in range(5)]
    assert [v.allowed for v in taken] == [True, True, True, True, False]
    assert [v.remaining for v in taken] == [3, 2, 1, 0, 0]
    refused = taken[-1]
    # One token comes back after 1/rate = 0.5 s; the bucket is full again after 2 s.
    assert (refused.retry_after_s, refused.reset_s, refused.limit) == (1, 2, 4)


def test_tokens_come_back_at_the_rate_and_never_past_the_burst(domain: JobDomain) -> None:
    key = domain.keys.rate("addr:1.2.3.4", "req")
    for _ in range(4):
        assert take(domain.redis, key, now=100.0).allowed
    assert not take(domain.redis, key, now=100.4).allowed  # 0.8 of a token
    assert take(domain.redis, key, now=100.5).allowed  # one token at 2/s
    assert not take(domain.redis, key, now=100.5).allowed
    # An hour later the bucket holds its burst, not 7,200 tokens.
    assert [take(domain.redis, key, now=3700.0).allowed for _ in range(5)] == [True] * 4 + [False]


def test_a_refusal_takes_nothing_and_the_state_expires_once_full(domain: JobDomain) -> None:
    key = domain.keys.rate("key:abc", "req")
    for _ in range(10):
        take(domain.redis, key, now=100.0)
    # Ten tries against four tokens: the refused six did not push the wait further.
    assert take(domain.redis, key, now=100.5).allowed
    ttl_ms = domain.redis.pttl(key)
    assert 0 < ttl_ms <= 2_000 + 1_000  # full again within burst/rate, plus a second


def test_a_clock_going_backwards_adds_no_tokens(domain: JobDomain) -> None:
    key = domain.keys.rate("addr:5.6.7.8", "req")
    for _ in range(4):
        take(domain.redis, key, now=100.0)
    assert not take(domain.redis, key, now=90.0).allowed


def test_per_minute_buckets_hold_a_minutes_worth() -> None:
    assert Bucket.per_minute(120) == Bucket(rate_per_s=2.0, burst=120)
    assert Bucket.per_minute(0.5).burst == 1


def test_the_limiter_keys_buckets_by_identity_and_kind(domain: JobDomain) -> None:
    client = async_client(domain)
    limiter = RateLimiter(client, keys=domain.keys)
    one = Bucket(rate_per_s=0.01, burst=1)

    async def run() -> list[bool]:
        verdicts = [
            await limiter.take("key:a", one),
            await limiter.take("key:a", one),
            await limiter.take("key:b", one),
            await limiter.take("key:a", one, kind=BucketKind.SUBMITS),
        ]
        await client.aclose()
        return [v.allowed for v in verdicts]

    assert asyncio.run(run()) == [True, False, True, True]


def test_a_key_and_its_request_token_come_in_one_step(domain: JobDomain) -> None:
    client = async_client(domain)
    limiter = RateLimiter(client, keys=domain.keys)
    store = ApiKeyStore(domain.redis, keys=domain.keys, defaults=KeyLimits(burst=3))
    own = key_digest(store.create("alice", limits={"burst": 2, "rate_per_s": 0.01}))
    default = key_digest(store.create("bob"))
    free = key_digest(store.create("carol", limits={"unlimited": True}))

    async def run() -> list[tuple[str | None, bool | None, int | None]]:
        answers = []
        for digest in (own, own, own, default, free, "0" * 64):
            fields, verdict = await limiter.take_for_key(digest, defaults=store.defaults)
            record = store.decode(digest, fields)
            answers.append(
                (
                    record.owner if record else None,
                    verdict.allowed if verdict else None,
                    verdict.limit if verdict else None,
                )
            )
        await client.aclose()
        return answers

    assert asyncio.run(run()) == [
        ("alice", True, 2),  # the key's own burst
        ("alice", True, 2),
        ("alice", False, 2),
        ("bob", True, 3),  # the default burst
        ("carol", None, None),  # unlimited: no bucket at all
        (None, None, None),  # unknown: nothing taken
    ]
    assert not domain.redis.exists(domain.keys.rate(f"key:{free}", BucketKind.REQUESTS))


@pytest.mark.parametrize("identity", ["key:0123abcd", "addr:::1"])
def test_bucket_keys_live_under_the_prefix(identity: str) -> None:
    assert RedisKeys("vv").rate(identity, "req") == f"vv:rate:{identity}:req"
