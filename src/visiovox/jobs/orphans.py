"""Queued jobs whose ``run_job`` message is gone, found where kombu keeps its messages.

A message can vanish while its job stays ``queued``, and then nothing would
ever run the job:

- Redis pops it for a worker's ``BRPOP`` and stops (a restart, a crash) before
  the reply leaves: the pop is saved, the reply is not sent (seen in
  ``tests/integration/test_chaos.py``);
- a worker dies between that reply and kombu's note of the delivery (its
  ``unacked`` hash, written by the client after the pop), or after that note
  but before it claimed the job: kombu would restore the message only after
  ``worker.visibility_timeout_s`` (6 h).

So the janitor looks, at most once per lease, for jobs queued longer than a
lease whose message is neither on a queue list nor delivered within that lease
(a live worker claims a job within milliseconds of its delivery). Nothing is
read while no job has waited that long. A false positive costs one duplicate
message, which the claim drops.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import redis

from visiovox.jobs.queues import queue_lists
from visiovox.jobs.task_message import job_id_of

# kombu.transport.redis.Channel.unacked_key / unacked_index_key (kombu 5.x): the
# delivered messages ({delivery tag: [message, exchange, routing key]}) and when.
KOMBU_UNACKED = "unacked"
KOMBU_UNACKED_INDEX = "unacked_index"
# Messages read per LRANGE: forward from the head, so a concurrent LPUSH makes
# a chunk re-read a message and a BRPOP (at the tail) shifts nothing: none is skipped.
CHUNK = 500


def missing_messages(
    client: redis.Redis,
    *,
    job_ids: Sequence[str],
    queues: Iterable[str],
    delivered_since: float,
) -> list[str]:
    """The ``job_ids`` with no message on ``queues`` and none delivered since ``delivered_since``.

    The lists are read before the deliveries: a message that moves from a list to
    a worker meanwhile is still seen.
    """
    missing = set(job_ids)
    for name in (name for queue in queues for name in queue_lists(queue)):
        start = 0
        while missing:
            chunk: list[Any] = client.lrange(name, start, start + CHUNK - 1)
            missing.difference_update(job_id_of(message) for message in chunk)
            if len(chunk) < CHUNK:
                break
            start += CHUNK
    if missing:
        tags: list[Any] = client.zrangebyscore(KOMBU_UNACKED_INDEX, delivered_since, "+inf")
        deliveries: list[Any] = client.hmget(KOMBU_UNACKED, tags) if tags else []
        missing.difference_update(
            job_id_of(json.loads(raw)[0]) for raw in deliveries if raw is not None
        )
    return [job_id for job_id in job_ids if job_id in missing]
