"""Queued jobs whose message was lost are dispatched again; the others are left alone."""

from __future__ import annotations

import json
import time
import uuid

from tests.unit.jobs.helpers import create_job
from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.janitor import Janitor
from visiovox.jobs.model import Job, JobStatus
from visiovox.jobs.orphans import KOMBU_UNACKED, KOMBU_UNACKED_INDEX, missing_messages
from visiovox.jobs.queues import DeviceClass, Priority, Route, priority_list, shared_queue
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.task_message import job_id_of, run_job_message
from visiovox.jobs.workers import WorkerRegistry

LEASE_S = 0.3  # tests/unit/jobs/conftest.py


def make_janitor(domain: JobDomain) -> Janitor:
    return Janitor(
        domain=domain,
        dispatcher=Dispatcher(domain.redis),
        registry=WorkerRegistry(domain.redis, keys=domain.keys, ttl_s=1),
        pipelines=["noop"],
        retention_s=3600,
        interval_s=5,
    )


def gpu_queue(domain: JobDomain) -> str:
    """The deployment's GPU queue, where this module's jobs wait (its prefix is the test's)."""
    return shared_queue("gpu", prefix=domain.keys.prefix)


def gpu_list(domain: JobDomain) -> str:
    return priority_list(gpu_queue(domain), Priority.NORMAL)


def create(domain: JobDomain, *, created_ago_s: float = 1.0) -> str:
    job_id = uuid.uuid4().hex
    job = Job(id=job_id, pipeline="noop", owner="o", created_at=time.time() - created_ago_s)
    create_job(domain, job, route=Route(device_class=DeviceClass.GPU, queue=gpu_queue(domain)))
    return job_id


def take_message(domain: JobDomain, job_id: str) -> str:
    """Remove ``job_id``'s message from the queue, as a BRPOP whose reply got lost does."""
    for raw in domain.redis.lrange(gpu_list(domain), 0, -1):
        if job_id_of(raw) == job_id:
            domain.redis.lrem(gpu_list(domain), 1, raw)
            return raw.decode()
    raise AssertionError(f"no message for {job_id}")


def deliver(domain: JobDomain, message: str, *, ago_s: float) -> str:
    """Note a delivery as kombu's Redis QoS does (``QoS.append``: the message decoded,
    ``message._raw``, in a JSON list with its exchange and routing key)."""
    tag = uuid.uuid4().hex
    domain.redis.zadd(KOMBU_UNACKED_INDEX, {tag: time.time() - ago_s})
    entry = [json.loads(message), "", gpu_queue(domain)]
    domain.redis.hset(KOMBU_UNACKED, tag, json.dumps(entry))
    return tag


def messages_for(domain: JobDomain, job_id: str) -> list[int]:
    """Positions (0: the consumers' end) of ``job_id``'s messages on the queue."""
    raw = domain.redis.lrange(gpu_list(domain), 0, -1)[::-1]
    return [index for index, message in enumerate(raw) if job_id_of(message) == job_id]


def test_a_job_whose_message_was_popped_and_lost_runs_next(domain: JobDomain) -> None:
    waiting, lost = create(domain), create(domain)
    take_message(domain, lost)
    report = make_janitor(domain).sweep()
    assert report.redispatched == [lost]
    assert messages_for(domain, lost) == [0]  # next in line, ahead of the one behind it
    assert len(messages_for(domain, waiting)) == 1
    job = domain.store.get(lost)
    assert job is not None and job.status is JobStatus.QUEUED
    for job_id in (waiting, lost):
        domain.store.request_cancel(job_id)


def test_present_recent_and_claimed_jobs_are_left_alone(domain: JobDomain) -> None:
    on_queue = create(domain)
    young = create(domain, created_ago_s=0.0)  # may still be on its way to a worker
    take_message(domain, young)
    delivered = create(domain)
    tag = deliver(domain, take_message(domain, delivered), ago_s=0.0)
    claimed = create(domain)
    take_message(domain, claimed)
    domain.store.claim(claimed, "w1")
    ids = [on_queue, young, delivered, claimed]
    assert make_janitor(domain).sweep().redispatched == []
    assert [len(messages_for(domain, job_id)) for job_id in ids] == [1, 0, 0, 0]
    domain.redis.zrem(KOMBU_UNACKED_INDEX, tag)
    domain.redis.hdel(KOMBU_UNACKED, tag)
    for job_id in ids:
        domain.store.request_cancel(job_id)


def test_a_delivery_older_than_a_lease_of_a_job_still_queued_is_lost(domain: JobDomain) -> None:
    job_id = create(domain)
    tag = deliver(domain, take_message(domain, job_id), ago_s=2 * LEASE_S)
    queues = [gpu_queue(domain)]
    since = time.time() - LEASE_S
    assert missing_messages(domain.redis, job_ids=[job_id], queues=queues, delivered_since=since)
    domain.redis.zadd(KOMBU_UNACKED_INDEX, {tag: time.time()})
    assert not missing_messages(
        domain.redis, job_ids=[job_id], queues=queues, delivered_since=since
    )
    domain.redis.zrem(KOMBU_UNACKED_INDEX, tag)
    domain.redis.hdel(KOMBU_UNACKED, tag)
    domain.store.request_cancel(job_id)


def test_one_search_per_lease(domain: JobDomain) -> None:
    janitor = make_janitor(domain)
    first = create(domain)
    take_message(domain, first)
    assert janitor.sweep().redispatched == [first]
    second = create(domain)
    take_message(domain, second)
    assert janitor.sweep().redispatched == []  # within the same lease
    time.sleep(LEASE_S + 0.05)
    assert janitor.sweep().redispatched == [second]
    for job_id in (first, second):
        domain.store.request_cancel(job_id)


def test_messages_are_read_in_chunks_without_skipping_any(domain: JobDomain) -> None:
    queue = f"vv.t{uuid.uuid4().hex[:8]}"
    ids = [f"j{index}" for index in range(1_203)]
    domain.redis.lpush(queue, *(run_job_message(job_id, queue=queue) for job_id in ids))
    found = missing_messages(
        domain.redis, job_ids=[*ids, "gone"], queues=[queue], delivered_since=time.time()
    )
    assert found == ["gone"]
    domain.redis.delete(queue)
