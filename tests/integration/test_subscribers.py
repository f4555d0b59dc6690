"""400 event subscribers of one owner on one gateway: each gets every event, others are served.

The gateway's pools are capped at ``POOL`` connections, far fewer than the
subscribers: streams must wait on the hub, not on a Redis connection each, and
a burst must wait for a free connection rather than fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.integration.stack import Stack
from tests.integration.subscribers import Sampler, StormPlan, storm

POOL = 8
PLAN = StormPlan(sse=200, ws=200, jobs=2)


@pytest.fixture
def crowded(tmp_path: Path) -> Iterator[Stack]:
    """A private deployment (auth on, two owners) whose gateway pools hold ``POOL`` each."""
    stack = Stack(
        tmp_path,
        settings={"VISIOVOX_AUTH__ENABLED": "on", "VISIOVOX_REDIS__MAX_CONNECTIONS": str(POOL)},
    )
    try:
        yield stack.start(owners=("alice", "bob"))
    finally:
        stack.stop()


def test_hundreds_of_subscribers_get_every_event_and_others_are_served(crowded: Stack) -> None:
    assert crowded.gateway is not None
    client = redis.Redis.from_url(crowded.redis.url)
    sampler = Sampler(gateway_pid=crowded.gateway.pid, redis_client=client)
    sampler.sample()
    with sampler:
        result = asyncio.run(storm(crowded, owner="alice", other="bob", plan=PLAN))
    client.close()

    assert not result.other_failures, result.other_failures[:5]
    assert set(result.other_statuses) <= {200, 202} and len(result.other_statuses) >= 30
    subscribers = 0
    for job_id, stored in result.stored.items():
        types = [event["type"] for event in stored]
        assert types[:2] == ["queued", "started"] and types[-1] == "succeeded", types
        assert types.count("progress") >= PLAN.job_steps
        expected = [*stored, {"type": "closed 1000 done"}]
        for kind, events in result.received[job_id]:
            subscribers += 1
            wanted = stored if kind == "sse" else expected
            assert events == wanted, (kind, [e["type"] for e in events][-3:], crowded.logs())
    assert subscribers == PLAN.sse + PLAN.ws
    # The gateway's two pools of POOL at most (the worker may open a few of its
    # own): the storm opened no connection per stream.
    assert max(sampler.clients) - sampler.clients[0] <= 2 * POOL + 4, sampler.clients
    assert "Traceback" not in (crowded.root / "gateway.log").read_text()
