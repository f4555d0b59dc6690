"""A live session's two Redis streams: the gateway's relay and the worker's link, real Redis."""

from __future__ import annotations

import asyncio
import uuid

import redis
import redis.asyncio

from visiovox.api.live_relay import LiveRelay
from visiovox.embedded_redis import EmbeddedRedis
from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.live_streams import EntryKind, FrameNumbers, LiveEntry
from visiovox.worker.live_link import RedisLiveLink


def _pair(server: EmbeddedRedis, *, maxlen: int) -> tuple[RedisKeys, str, RedisLiveLink]:
    keys = RedisKeys(f"t{uuid.uuid4().hex[:8]}")
    job_id = uuid.uuid4().hex
    link = RedisLiveLink(
        redis.Redis.from_url(server.url),
        keys=keys,
        job_id=job_id,
        maxlen=maxlen,
        ttl_s=60,
        max_history=4,
        session_ttl_s=60,
    )
    return keys, job_id, link


async def _push(
    server: EmbeddedRedis, keys: RedisKeys, job_id: str, entries: list[LiveEntry]
) -> None:
    client = redis.asyncio.Redis.from_url(server.url)
    relay = LiveRelay(client, keys=keys, job_id=job_id, maxlen=100, ttl_s=60)
    for entry in entries:
        await relay.push(entry)
    await client.aclose()


async def _pull(server: EmbeddedRedis, keys: RedisKeys, job_id: str) -> list[LiveEntry]:
    client = redis.asyncio.Redis.from_url(server.url)
    relay = LiveRelay(client, keys=keys, job_id=job_id, maxlen=100, ttl_s=60)
    entries = await relay.pull(block_ms=100)
    await relay.close()
    await client.aclose()
    return entries


def test_messages_cross_both_ways_in_order(redis_server: EmbeddedRedis) -> None:
    keys, job_id, link = _pair(redis_server, maxlen=100)
    sent = [LiveEntry.audio(b"\x01\x02"), LiveEntry.message({"type": "end_turn"})]
    asyncio.run(_push(redis_server, keys, job_id, sent))

    received = link.receive(timeout_s=0.1)
    assert [(i.audio, i.command) for i in received] == [
        (b"\x01\x02", None),
        (None, {"type": "end_turn"}),
    ]
    assert link.receive(timeout_s=0) == [] and link.dropped == 0

    link.send({"type": "ready"})
    link.send_audio(b"RIFF")
    back = asyncio.run(_pull(redis_server, keys, job_id))
    assert [(e.kind, e.data) for e in back] == [
        (EntryKind.MESSAGE, b'{"type": "ready"}'),
        (EntryKind.AUDIO, b"RIFF"),
    ]


def test_a_reader_that_fell_behind_loses_the_oldest_and_counts_them(
    redis_server: EmbeddedRedis,
) -> None:
    keys, job_id, link = _pair(redis_server, maxlen=100)
    chunks = [LiveEntry.audio(index.to_bytes(2, "little")) for index in range(1_000)]
    asyncio.run(_push(redis_server, keys, job_id, chunks))

    received = link.receive(timeout_s=0.1)

    assert 100 <= len(received) < 1_000  # MAXLEN ~ trims whole stream nodes
    assert link.dropped + len(received) == 1_000
    assert received[-1].audio == (999).to_bytes(2, "little")  # the freshest survive


def test_the_gateway_counts_what_the_output_cap_dropped(redis_server: EmbeddedRedis) -> None:
    keys, job_id, link = _pair(redis_server, maxlen=100)
    for index in range(1_000):
        link.send({"type": "response", "delta": str(index)})

    async def relay_all() -> tuple[list[LiveEntry], int]:
        client = redis.asyncio.Redis.from_url(redis_server.url)
        relay = LiveRelay(client, keys=keys, job_id=job_id, maxlen=100, ttl_s=60)
        entries = await relay.pull(block_ms=100)
        await client.aclose()
        return entries, relay.dropped

    relayed, dropped = asyncio.run(relay_all())

    assert 100 <= len(relayed) < 1_000
    assert dropped + len(relayed) == 1_000
    assert relayed[-1].payload() == {"type": "response", "delta": "999"}


def test_the_worker_extends_a_live_session_history_only(redis_server: EmbeddedRedis) -> None:
    keys, _job_id, link = _pair(redis_server, maxlen=100)
    client = redis.Redis.from_url(redis_server.url)
    client.hset(keys.session("s1"), mapping={"owner": "alice"})
    exchange = [{"role": "user", "content": f"q{i}"} for i in range(6)]

    link.remember("s1", exchange)
    link.remember("gone", exchange)

    history = [item.decode() for item in client.lrange(keys.session_history("s1"), 0, -1)]
    assert [h.split('"content": ')[1] for h in history] == ['"q2"}', '"q3"}', '"q4"}', '"q5"}']
    assert 0 < client.ttl(keys.session("s1")) <= 60
    assert not client.exists(keys.session_history("gone"))


def test_numbered_video_frames_cross_the_cap_with_their_seqs(redis_server: EmbeddedRedis) -> None:
    keys, job_id, link = _pair(redis_server, maxlen=100)
    numbers = FrameNumbers()
    entries = [numbers.stamp(LiveEntry.audio(b"source"))]
    entries += [numbers.stamp(LiveEntry.audio(bytes(5_000))) for _ in range(300)]
    entries.append(numbers.stamp(LiveEntry.message({"type": "end_session"})))
    asyncio.run(_push(redis_server, keys, job_id, entries))

    received = link.receive(timeout_s=0.1)

    frames = [item.frames for item in received if item.video]
    assert frames == list(range(300 - len(frames), 300))  # the newest, with the client's seqs
    assert len(frames) < 300 and link.dropped == 301 - len(frames)
    assert received[-1].command == {"type": "end_session"} and received[-1].frames == 300
