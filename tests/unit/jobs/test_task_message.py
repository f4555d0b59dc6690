"""Our hand-built ``run_job`` message matches what Celery's own ``send_task`` stores."""

from __future__ import annotations

import json

from visiovox.config import Settings
from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.redis_client import JobDomain
from visiovox.worker.celery_app import make_celery


def shape(value: object) -> object:
    """The structure of a JSON value: keys and value types, not the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    return type(value).__name__


def test_message_has_the_shape_celery_sends(settings: Settings, domain: JobDomain) -> None:
    celery = make_celery(settings)
    celery.send_task(
        "visiovox.run_job", args=["job-1"], queue="q.celery", exchange="", routing_key="q.celery"
    )
    Dispatcher(domain.redis).dispatch("job-1", queue="q.ours")
    theirs = json.loads(domain.redis.lpop("q.celery"))
    ours = json.loads(domain.redis.lpop("q.ours"))
    loose = {"reply_to", "ignore_result"}  # results are ignored: no reply queue, flag set
    for message in (theirs, ours):
        for key in loose:
            message["properties"].pop(key, None)
            message["headers"].pop(key, None)
        message["headers"]["origin"] = "x"
    assert shape(ours) == shape(theirs)
    assert ours["body"] == theirs["body"]
    assert ours["headers"]["task"] == theirs["headers"]["task"]
    assert ours["properties"]["delivery_info"] == {"exchange": "", "routing_key": "q.ours"}
    celery.close()
