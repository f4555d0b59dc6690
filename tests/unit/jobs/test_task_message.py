"""Our hand-built ``run_job`` message matches what Celery's own ``send_task`` stores.

With a priority too: kombu's Redis transport files a message under one list per
priority step (``_q_for_pri``), and our message must land on that same list
with the same ``priority`` property, or workers would read it out of order.
"""

from __future__ import annotations

import json

import pytest

from visiovox.config import Settings
from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.queues import Priority, priority_list, queue_lists
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.task_message import job_id_of
from visiovox.worker.celery_app import make_celery


def shape(value: object) -> object:
    """The structure of a JSON value: keys and value types, not the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    return type(value).__name__


@pytest.mark.parametrize("priority", list(Priority))
def test_message_has_the_shape_and_list_celery_uses(
    settings: Settings, domain: JobDomain, priority: Priority
) -> None:
    celery = make_celery(settings)
    celery.send_task(
        "visiovox.run_job",
        args=["job-1"],
        queue="q.celery",
        exchange="",
        routing_key="q.celery",
        priority=priority.step,
    )
    Dispatcher(domain.redis).dispatch("job-1", queue="q.ours", priority=priority)
    [their_list] = [name for name in queue_lists("q.celery") if domain.redis.llen(name)]
    assert their_list == priority_list("q.celery", priority)
    theirs = json.loads(domain.redis.lpop(their_list))
    ours = json.loads(domain.redis.lpop(priority_list("q.ours", priority)))
    loose = {"reply_to", "ignore_result"}  # results are ignored: no reply queue, flag set
    for message in (theirs, ours):
        for key in loose:
            message["properties"].pop(key, None)
            message["headers"].pop(key, None)
        message["headers"]["origin"] = "x"
    assert shape(ours) == shape(theirs)
    assert ours["body"] == theirs["body"]
    assert ours["headers"]["task"] == theirs["headers"]["task"]
    assert ours["properties"]["priority"] == theirs["properties"]["priority"] == priority.step
    assert ours["properties"]["delivery_info"] == {"exchange": "", "routing_key": "q.ours"}
    celery.close()


def test_high_priority_lists_are_read_first() -> None:
    # kombu's BRPOP names the lists step by step: the first list is served first.
    lists = queue_lists("vv.cpu")
    order = [lists.index(priority_list("vv.cpu", p)) for p in Priority]
    assert order == sorted(order)  # Priority lists high, normal, low


def test_job_id_round_trips(domain: JobDomain) -> None:
    Dispatcher(domain.redis).dispatch("job-7", queue="q.id")
    assert job_id_of(domain.redis.rpop(priority_list("q.id", Priority.NORMAL))) == "job-7"
