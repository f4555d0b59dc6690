"""The webhook series of ``/metrics``, read from Redis at scrape time (deployment-wide).

The delivering process counts each attempt in ``webhook:stats`` in the same
script that records it (``outbox.py``), so every gateway answers the same
figures, whichever one delivers: attempts by result (``delivered``, ``retry``,
``failed``), their duration as a histogram, and the deliveries pending now.
"""

from __future__ import annotations

import redis.asyncio
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from visiovox.jobs.keys import RedisKeys
from visiovox.webhooks.outbox import DURATION_BUCKETS_MS, Outbox, Outcome


async def webhook_metrics(client: redis.asyncio.Redis, *, keys: RedisKeys) -> list[Metric]:
    """Deliveries by result, attempt durations, and the outbox's size."""
    outbox = Outbox(client, keys=keys, ttl_s=0)
    stats = await outbox.stats()
    results = CounterMetricFamily(
        "visiovox_webhook_attempts",
        "Webhook delivery attempts by result: delivered, retry (tried again later), failed.",
        labels=["result"],
    )
    for outcome in Outcome:
        results.add_metric([outcome.value], stats.get(f"result:{outcome.value}", 0.0))
    duration = HistogramMetricFamily(
        "visiovox_webhook_attempt_seconds",
        "Seconds from a webhook attempt's start to the receiver's answer (or the error).",
    )
    buckets = [
        (repr(bound / 1000), stats.get(f"duration_le:{bound}", 0.0))
        for bound in DURATION_BUCKETS_MS
    ]
    buckets.append(("+Inf", stats.get("duration_count", 0.0)))
    duration.add_metric([], buckets, stats.get("duration_sum_ms", 0.0) / 1000)
    queue = GaugeMetricFamily(
        "visiovox_webhook_queue", "Webhook deliveries pending (waiting or being sent)."
    )
    queue.add_metric([], await outbox.queue_size())
    return [results, duration, queue]
