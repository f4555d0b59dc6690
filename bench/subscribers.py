"""Event subscribers: gateway memory and Redis connections while hundreds follow jobs.

The storm of ``tests/integration/subscribers.py``: one owner follows 2 ``noop``
jobs (1.5 s, 6 progress steps) with N SSE and N WebSocket clients, all
connected before the jobs start, while another owner lists, reads and submits
jobs in a loop. One private deployment per size (auth on, one worker, default
pool settings). Sampled every 50 ms: the gateway's RSS and Redis's connected
clients (the whole deployment: gateway, worker, this sampler); and the
``XRANGE`` calls Redis ran during the storm (``INFO commandstats``), against
what one read per subscriber per event would take.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import Counter
from pathlib import Path

import redis
from tests.integration.stack import Stack
from tests.integration.subscribers import Sampler, StormPlan, StormResult, storm

from bench.loadgen import percentile

# Subscribers of each kind per run; 0: the baseline (the other owner alone).
SIZES = (0, 50, 200, 500)


def xrange_calls(client: redis.Redis) -> int:
    return int(client.info("commandstats").get("cmdstat_xrange", {}).get("calls", 0))


def complete(result: StormResult) -> int:
    """Subscribers that received every stored event of their job, in order."""
    count = 0
    for job_id, stored in result.stored.items():
        for kind, events in result.received.get(job_id, []):
            got = events if kind == "sse" else events[:-1]
            count += got == stored
    return count


def run(per_kind: int) -> None:
    plan = StormPlan(sse=per_kind, ws=per_kind)
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp), settings={"VISIOVOX_AUTH__ENABLED": "on"})
        stack.start(owners=("alice", "bob"))
        try:
            assert stack.gateway is not None
            client = redis.Redis.from_url(stack.redis.url)
            sampler = Sampler(gateway_pid=stack.gateway.pid, redis_client=client)
            sampler.sample()
            xranges = xrange_calls(client)
            with sampler:
                result = asyncio.run(storm(stack, owner="alice", other="bob", plan=plan))
            sampler.sample()
            xranges = xrange_calls(client) - xranges
            client.close()
        finally:
            stack.stop()
    statuses = Counter(result.other_statuses)
    print(
        f"{2 * per_kind:>5} {complete(result):>9} {result.connect_s:>9.2f} {result.storm_s:>8.2f}"
        f" {len(result.other_statuses):>6} {statuses.get(503, 0):>4}"
        f" {percentile(result.other_latencies_s, 0.5) * 1000:>6.0f}"
        f" {percentile(result.other_latencies_s, 0.99) * 1000:>6.0f}"
        f" {sampler.rss_mb[0]:>7.1f} {max(sampler.rss_mb):>7.1f} {sampler.rss_mb[-1]:>7.1f}"
        f" {sampler.clients[0]:>6} {max(sampler.clients):>6}"
        f" {xranges:>7} {sum(len(events) for events in result.stored.values()) * per_kind:>8}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(SIZES),
        help="subscribers of each kind (SSE and WebSocket) per run",
    )
    args = parser.parse_args()
    print("subscribers: N SSE + N WebSocket on 2 noop jobs; another owner's requests meanwhile")
    print(
        f"{'subs':>5} {'complete':>9} {'connect s':>9} {'storm s':>8} {'other':>6} {'503':>4}"
        f" {'p50 ms':>6} {'p99 ms':>6}"
        f" {'rss MB':>7} {'peak':>7} {'after':>7} {'redis':>6} {'peak':>6}"
        f" {'xrange':>7} {'per-sub':>8}"
    )
    for size in args.sizes:
        run(size)


if __name__ == "__main__":
    main()
