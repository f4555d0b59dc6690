"""Messages queued under the fixed names of before move to the deployment's own queues."""

from __future__ import annotations

import json
import uuid

from tests.unit.jobs.helpers import create_job
from visiovox.config import Settings
from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.legacy_queues import move_legacy_messages
from visiovox.jobs.model import Job
from visiovox.jobs.queues import Priority, priority_list, queue_lists, shared_queue
from visiovox.jobs.redis_client import JobDomain, build_domain
from visiovox.jobs.task_message import job_id_of


def queued_job(domain: JobDomain, device_class: str = "cpu") -> str:
    """A job of ``domain`` whose message a gateway of before pushed onto ``vv.<class>``."""
    job_id = uuid.uuid4().hex
    create_job(domain, Job(id=job_id, pipeline="noop", owner="o", device_class=device_class))
    return job_id


def consumer_order(domain: JobDomain, name: str) -> list[str]:
    """The job ids on list ``name``, the next one taken first."""
    return [job_id_of(message) for message in domain.redis.lrange(name, 0, -1)[::-1]]


def on_any(domain: JobDomain, queue: str) -> set[str]:
    return {job for name in queue_lists(queue) for job in consumer_order(domain, name)}


def test_messages_of_before_move_to_the_prefixed_queues(domain: JobDomain) -> None:
    before = Dispatcher(domain.redis)  # pushes where a gateway of before did
    first, second, urgent, private = (queued_job(domain) for _ in range(4))
    gpu = queued_job(domain, "gpu")
    for job_id in (first, second):
        before.dispatch(job_id, queue="vv.cpu")
    before.dispatch(urgent, queue="vv.cpu", priority=Priority.HIGH)
    before.dispatch(gpu, queue="vv.gpu")
    domain.redis.sadd(domain.keys.workers, "gone")
    before.dispatch(private, queue="vv.worker.gone")
    foreign = uuid.uuid4().hex  # a job of a deployment on the default prefix
    before.dispatch(foreign, queue="vv.cpu")

    moved = move_legacy_messages(domain)

    assert sorted(moved) == sorted([first, second, urgent, gpu, private])
    cpu = shared_queue("cpu", prefix=domain.keys.prefix)
    normal = consumer_order(domain, priority_list(cpu, Priority.NORMAL))
    assert normal.index(first) < normal.index(second)  # still in their order
    assert private in normal  # its worker may be gone: the shared queue of its class
    assert consumer_order(domain, priority_list(cpu, Priority.HIGH)) == [urgent]
    assert on_any(domain, shared_queue("gpu", prefix=domain.keys.prefix)) == {gpu}
    for message in domain.redis.lrange(priority_list(cpu, Priority.HIGH), 0, -1):
        assert json.loads(message)["properties"]["delivery_info"]["routing_key"] == cpu
    left = on_any(domain, "vv.cpu") | on_any(domain, "vv.gpu") | on_any(domain, "vv.worker.gone")
    assert foreign in left and not left & set(moved)
    assert move_legacy_messages(domain) == []  # each message moves once
    drop(domain, priority_list("vv.cpu", Priority.NORMAL), foreign)


def test_a_deployment_on_the_default_prefix_moves_nothing(settings: Settings) -> None:
    redis_settings = settings.redis.model_copy(update={"prefix": "vv"})
    domain = build_domain(settings.model_copy(update={"redis": redis_settings}))
    job_id = queued_job(domain)
    Dispatcher(domain.redis).dispatch(job_id, queue="vv.cpu")
    assert move_legacy_messages(domain) == []
    waiting = priority_list("vv.cpu", Priority.NORMAL)
    assert consumer_order(domain, waiting).count(job_id) == 1
    drop(domain, waiting, job_id)
    domain.store.request_cancel(job_id)


def drop(domain: JobDomain, name: str, job_id: str) -> None:
    """Take ``job_id``'s message off list ``name``, which every test on this Redis shares."""
    for message in domain.redis.lrange(name, 0, -1):
        if job_id_of(message) == job_id:
            domain.redis.lrem(name, 1, message)
