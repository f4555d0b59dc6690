"""Creating routed jobs on a real Redis: priority lists, the affinity guard, the cap, statistics."""

from __future__ import annotations

import time

import pytest

from tests.unit.jobs.helpers import create_job
from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.model import Job, JobStatus
from visiovox.jobs.queues import DeviceClass, Priority, Route, priority_list
from visiovox.jobs.records import QueueFull
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.stats import load_stats
from visiovox.jobs.workers import WorkerInfo, WorkerRegistry, WorkerState


def private_route(worker: str, priority: Priority = Priority.NORMAL) -> Route:
    return Route(
        device_class=DeviceClass.CPU,
        queue=f"vv.worker.{worker}",
        priority=priority,
        worker=worker,
    )


def register(domain: JobDomain, name: str, state: WorkerState) -> None:
    registry = WorkerRegistry(domain.redis, keys=domain.keys, ttl_s=5)
    registry.publish(WorkerInfo(name=name, host="h", pid=1, device="cpu", state=state))


def create(domain: JobDomain, job_id: str, route: Route, **options: int) -> Job:
    job, _ = create_job(domain, Job(id=job_id, pipeline="noop", owner="o"), route=route, **options)
    return job


def test_job_lands_on_its_priority_list_and_remembers_its_route(domain: JobDomain) -> None:
    route = Route(device_class=DeviceClass.GPU, queue="vv.gpu.test", priority=Priority.LOW)
    job = create(domain, "low1", route)
    assert domain.redis.llen(priority_list("vv.gpu.test", Priority.LOW)) == 1
    stored = domain.store.get("low1")
    assert stored is not None and stored == job
    assert (stored.queue, stored.device_class, stored.priority) == ("vv.gpu.test", "gpu", "low")


def test_private_route_holds_while_the_worker_is_ready_and_idle(domain: JobDomain) -> None:
    name = f"{domain.keys.prefix}-w1"
    register(domain, name, WorkerState.READY)
    first = create(domain, "a1", private_route(name))
    assert first.queue == f"vv.worker.{name}"
    # Its private queue now holds a job: the next one goes to the shared queue.
    second = create(domain, "a2", private_route(name))
    assert second.queue == "vv.cpu"
    stored = domain.store.get("a2")
    assert stored is not None and stored.queue == "vv.cpu"
    assert Dispatcher(domain.redis).drain_queue(f"vv.worker.{name}") == ["a1"]
    assert "a2" in Dispatcher(domain.redis).drain_queue("vv.cpu")


@pytest.mark.parametrize("state", [WorkerState.BUSY, WorkerState.DRAINING, None])
def test_private_route_falls_back_unless_the_worker_is_ready(
    domain: JobDomain, state: WorkerState | None
) -> None:
    name = f"{domain.keys.prefix}-w2"
    if state is not None:
        register(domain, name, state)
    assert create(domain, "b1", private_route(name)).queue == "vv.cpu"
    assert Dispatcher(domain.redis).depth(f"vv.worker.{name}") == 0
    assert "b1" in Dispatcher(domain.redis).drain_queue("vv.cpu")


def test_queue_cap_refuses_past_max_queued_and_frees_on_claim(domain: JobDomain) -> None:
    route = Route(device_class=DeviceClass.CPU, queue="vv.cap.test")
    for index in range(2):
        create(domain, f"c{index}", route, max_queued=2)
    with pytest.raises(QueueFull) as refused:
        create(domain, "c2", route, max_queued=2)
    assert (refused.value.depth, refused.value.cap) == (2, 2)
    assert domain.store.get("c2") is None
    assert domain.store.queued_count("noop") == 2
    domain.store.claim("c0", "w1")
    domain.store.request_cancel("c1")
    assert domain.store.queued_count("noop") == 0
    create(domain, "c3", route, max_queued=2)


def test_refused_submission_frees_its_idempotency_key(domain: JobDomain) -> None:
    route = Route(device_class=DeviceClass.CPU, queue="vv.cap.idem")
    create(domain, "d0", route, max_queued=1)
    job = Job(id="d1", pipeline="noop", owner="o")
    with pytest.raises(QueueFull):
        create_job(domain, job, idempotency_key="k", route=route, max_queued=1)
    assert domain.redis.get(domain.keys.idempotency("o", "k")) is None


def test_lost_job_goes_back_into_its_pipelines_queued_set(domain: JobDomain) -> None:
    create(domain, "e1", Route(device_class=DeviceClass.CPU, queue="vv.lost.test"))
    domain.store.claim("e1", "w1")
    assert domain.store.queued_count("noop") == 0
    time.sleep(0.4)  # the test lease is 0.3 s
    assert domain.store.requeue_if_lease_expired("e1") == "requeued"
    assert domain.store.queued_count("noop") == 1


def test_statistics_count_each_transition_once(domain: JobDomain) -> None:
    route = Route(device_class=DeviceClass.CPU, queue="vv.stats.test")
    for job_id in ("s1", "s2", "s3"):
        create(domain, job_id, route)
    domain.store.claim("s1", "w1")
    domain.store.finish("s1", worker="w1", status=JobStatus.SUCCEEDED)
    domain.store.finish("s1", worker="w1", status=JobStatus.SUCCEEDED)  # refused: counted once
    domain.store.claim("s2", "w1")
    domain.store.finish("s2", worker="w1", status=JobStatus.FAILED)
    domain.store.request_cancel("s3")
    stats = load_stats(domain.redis, domain.keys.stats)
    assert stats.jobs == {
        ("noop", "queued"): 3,
        ("noop", "running"): 2,
        ("noop", "succeeded"): 1,
        ("noop", "failed"): 1,
        ("noop", "canceled"): 1,
    }
    for hist in ("dispatch", "run"):
        histogram = stats.histograms[hist]["noop"]
        assert histogram.count == 2 and histogram.buckets[-1] == (float("inf"), 2)
        assert 0 <= histogram.total < 1
        counts = [count for _, count in histogram.buckets]
        assert counts == sorted(counts)  # cumulative
