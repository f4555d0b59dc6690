"""Webhook delivery: completion → received latency, and completed deliveries per second.

One stack (embedded Redis, the gateway, one worker), auth off, webhooks to a
``WebhookReceiver`` on loopback (``allow_private`` on, the only way to reach
it). Figures, each beside a baseline measured in the same run:

- latency: ``noop`` jobs one at a time, each with a ``webhook``; the job's
  ``finished_at`` (the clock of the script that ended it) against the moment
  the receiver read the request (same machine, same clock). Baseline: the same
  receiver's round trip for a plain POST from this process.
- throughput: the gateway stopped, ``THROUGHPUT_DELIVERIES`` ``completed``
  deliveries enqueued through the redelivery script, the gateway started, the
  rate from the first delivery received to the last. Baseline: the same number
  of POSTs sent straight to the receiver, ``max_concurrency`` (16) at once.

``os.getloadavg()`` is printed before and after: other work on the machine
moves every figure.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
import redis.asyncio
from tests.integration.stack import Stack
from tests.webhook_receiver import WebhookReceiver

from bench.loadgen import percentile
from visiovox.jobs.keys import RedisKeys
from visiovox.webhooks.outbox import Outbox

LATENCY_JOBS = 200
THROUGHPUT_DELIVERIES = 2_000
CONCURRENCY = 16
SETTINGS = {
    "VISIOVOX_WEBHOOKS__ALLOW_PRIVATE": "true",
    "VISIOVOX_WEBHOOKS__ALLOW_HTTP": "true",
    "VISIOVOX_WEBHOOKS__MAX_CONCURRENCY": str(CONCURRENCY),
}


def iso_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def completion_latencies(stack: Stack, receiver: WebhookReceiver) -> list[float]:
    """Seconds from each job's end to its ``completed`` webhook's arrival."""
    start = len(receiver.received)
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        for index in range(LATENCY_JOBS):
            client.post("/v1/jobs/noop", data={"webhook": receiver.url}).raise_for_status()
            receiver.wait_for(start + index + 1, timeout_s=30)
    latencies = []
    for request in receiver.received[start:]:
        body = json.loads(request.body)
        latencies.append(request.at - iso_time(body["data"]["finished_at"]))
    return latencies


def post_latencies(receiver: WebhookReceiver, *, count: int) -> list[float]:
    """The baseline: a plain POST's round trip to the same receiver."""
    body = json.dumps({"type": "job.completed", "data": {"pad": "x" * 800}}).encode()
    latencies = []
    with httpx.Client(timeout=30) as client:
        for _ in range(count):
            started = time.perf_counter()
            client.post(receiver.url, content=body).raise_for_status()
            latencies.append(time.perf_counter() - started)
    return latencies


async def _enqueue(url: str, job_id: str, count: int) -> None:
    client = redis.asyncio.Redis.from_url(url)
    outbox = Outbox(client, keys=RedisKeys(), ttl_s=3_600)
    for _ in range(count):
        await outbox.redeliver(job_id, now=time.time())
    await client.aclose()


def delivery_rate(stack: Stack, receiver: WebhookReceiver) -> float:
    """Completed deliveries a second, from an outbox filled while the gateway was stopped."""
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        client.post("/v1/jobs/noop", data={"webhook": receiver.url}).raise_for_status()
        first = len(receiver.wait_for(len(receiver.received) + 1, timeout_s=30))
        job_id = json.loads(receiver.received[-1].body)["data"]["id"]
    stack.kill_gateway(signal.SIGTERM)
    asyncio.run(_enqueue(stack.redis.url, job_id, THROUGHPUT_DELIVERIES))
    stack.start_gateway()
    arrived = receiver.wait_for(first + THROUGHPUT_DELIVERIES, timeout_s=300)[first:]
    span = arrived[-1].at - arrived[0].at
    return (len(arrived) - 1) / span


async def _post_many(url: str, count: int) -> float:
    body = json.dumps({"type": "job.completed", "data": {"pad": "x" * 800}}).encode()
    remaining = iter(range(count))
    async with httpx.AsyncClient(timeout=30) as client:

        async def sender() -> None:
            for _ in remaining:
                (await client.post(url, content=body)).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
        return count / (time.perf_counter() - started)


def describe(label: str, values: list[float]) -> tuple[float, float]:
    p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
    print(f"{label:<44} n={len(values):4d}  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    return p50, p99


def main() -> None:
    print(f"load average before: {os.getloadavg()}")
    receiver = WebhookReceiver().start()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp), settings=SETTINGS).start(workers=1)
        try:
            completion = completion_latencies(stack, receiver)
            baseline = post_latencies(receiver, count=LATENCY_JOBS)
            rate = delivery_rate(stack, receiver)
            raw_rate = asyncio.run(_post_many(receiver.url, THROUGHPUT_DELIVERIES))
        finally:
            stack.stop()
            receiver.stop()
    p50, p99 = describe("completion -> webhook received", completion)
    base50, base99 = describe("baseline: plain POST round trip", baseline)
    print(f"ratio to baseline: p50 x{p50 / base50:.1f}  p99 x{p99 / base99:.1f}")
    print(f"completed deliveries/s (outbox of {THROUGHPUT_DELIVERIES}): {rate:8.1f}")
    print(f"baseline: plain POSTs/s, {CONCURRENCY} at once:           {raw_rate:8.1f}")
    print(f"ratio to baseline: x{rate / raw_rate:.2f}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
