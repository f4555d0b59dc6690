"""A job split into segment jobs, on a real Redis: the split, each child's settling of its
parent (stitch enqueued, failure, cancel), the parent's progress bar, owners' view."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.unit.jobs.helpers import async_client, create_job
from tests.unit.jobs.test_orphans import LEASE_S, make_janitor
from visiovox.jobs.keys import as_text
from visiovox.jobs.model import EventType, Job, JobError, JobStatus, QuotaClass
from visiovox.jobs.queues import DeviceClass, Route, queue_lists
from visiovox.jobs.reader import JobReader
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.segments import FanOut, SegmentJob, SegmentRole, SplitRefused
from visiovox.jobs.task_message import job_id_of


def fan_out(domain: JobDomain) -> FanOut:
    return FanOut(
        domain.redis, keys=domain.keys, events=domain.events, retention_s=domain.store.retention_s
    )


def route(domain: JobDomain) -> Route:
    queue = f"{domain.keys.prefix}.cpu"
    return Route(device_class=DeviceClass.CPU, queue=queue, prefix=domain.keys.prefix)


def split_parent(
    domain: JobDomain, *, children: int = 3, webhook_events: list[str] | None = None
) -> tuple[Job, list[str]]:
    """A running parent of alice's (counted in her quota) split into ``children`` segments."""
    hooks = {"webhook": "https://example.com/hook", "webhook_events": webhook_events or []}
    create_job(
        domain,
        Job(id="p", pipeline="noop", owner="alice", quota=QuotaClass.JOBS, **hooks),
    )
    domain.store.claim("p", "w1")
    claimed = domain.store.get("p")
    assert claimed is not None
    segments = [SegmentJob(plan={"index": i}, frames=10) for i in range(children)]
    fan_out(domain).split(claimed, worker="w1", children=segments, route=route(domain))
    return claimed, [segment.id for segment in segments]


def messages(domain: JobDomain) -> list[str]:
    lists = queue_lists(f"{domain.keys.prefix}.cpu")
    return [job_id_of(m) for name in lists for m in reversed(domain.redis.lrange(name, 0, -1))]


def succeed(domain: JobDomain, job_id: str, worker: str = "w2") -> None:
    assert domain.store.claim(job_id, worker).attempt >= 1
    assert domain.store.finish(job_id, worker=worker, status=JobStatus.SUCCEEDED, result={"n": 1})


def test_the_split_queues_the_children_and_frees_the_parents_worker(domain: JobDomain) -> None:
    _parent, children = split_parent(domain)
    waiting = domain.store.get("p")
    assert waiting is not None
    assert (waiting.status, waiting.phase, waiting.segments) == (
        JobStatus.RUNNING,
        "segments",
        children,
    )
    assert "p" not in domain.store.running_job_ids()
    assert not domain.redis.exists(domain.keys.lease("p"))
    assert messages(domain)[-3:] == children  # in order, behind the parent's first message
    for index, child_id in enumerate(children):
        child = domain.store.get(child_id)
        assert child is not None
        assert (child.parent_id, child.owner, child.quota) == ("p", "alice", None)
        assert child.segment == {"index": index, "frames": 10, "total_frames": 30}
        assert SegmentRole.of(child).segment == child.segment
    assert SegmentRole.of(waiting) == SegmentRole()
    # The owner's quota holds the parent alone.
    assert domain.redis.zrange(domain.keys.quota("alice") + "running", 0, -1) == [b"p"]


def test_the_last_success_enqueues_the_stitch(domain: JobDomain) -> None:
    _parent, children = split_parent(domain)
    before = len(messages(domain))
    for child_id in children[:-1]:
        succeed(domain, child_id)
    assert len(messages(domain)) == before
    succeed(domain, children[-1])
    assert messages(domain)[-1] == "p"
    stitching = domain.store.get("p")
    assert stitching is not None and stitching.phase == "stitch"
    assert SegmentRole.of(stitching).children == tuple(children)
    assert domain.store.claim("p", "w2").attempt == 1  # the stitch's attempts count afresh
    assert domain.store.finish("p", worker="w2", status=JobStatus.SUCCEEDED)
    assert domain.redis.zcard(domain.keys.quota("alice") + "running") == 0


def test_a_split_job_is_started_once_for_its_webhook(domain: JobDomain) -> None:
    _parent, children = split_parent(domain, webhook_events=["started", "completed"])
    for child_id in children:
        succeed(domain, child_id)
    assert domain.store.claim("p", "w2").attempt == 1  # the stitch
    assert domain.store.finish("p", worker="w2", status=JobStatus.SUCCEEDED)
    events = [
        as_text(domain.redis.hget(domain.keys.webhook_delivery(as_text(id_)), "event"))
        for id_ in domain.redis.lrange(domain.keys.webhook_log("p"), 0, -1)
    ]
    assert events == ["started", "completed"]


def test_a_stitch_whose_message_was_lost_is_dispatched_again_once(domain: JobDomain) -> None:
    _parent, children = split_parent(domain)
    for child_id in children:
        succeed(domain, child_id)
    for name in queue_lists(f"{domain.keys.prefix}.cpu"):  # popped, and the reply lost
        for raw in domain.redis.lrange(name, 0, -1):
            if job_id_of(raw) == "p":
                domain.redis.lrem(name, 1, raw)
    janitor = make_janitor(domain)
    assert janitor.redispatch_lost_messages() == []  # not before it has waited a lease
    time.sleep(LEASE_S + 0.1)
    assert janitor.redispatch_lost_messages() == ["p"]
    assert messages(domain).count("p") == 1
    assert domain.store.claim("p", "w2").attempt == 1
    time.sleep(LEASE_S + 0.1)
    assert janitor.redispatch_lost_messages() == []  # claimed: never again from this set
    assert domain.redis.zcard(domain.keys.stitch_waiting) == 0


def test_a_failed_child_fails_the_parent_with_its_code_and_cancels_the_rest(
    domain: JobDomain,
) -> None:
    _parent, (first, second, third) = split_parent(domain)
    succeed(domain, first)
    domain.store.claim(second, "w2")
    error = JobError(code="invalid_media", message="segment 1: bad frame")
    domain.store.finish(second, worker="w2", status=JobStatus.FAILED, error=error)
    failed = domain.store.get("p")
    assert failed is not None
    assert (failed.status, failed.error) == (JobStatus.FAILED, error)
    assert EventType.FAILED in [event.type for event in domain.events.read_after("p")]
    last = domain.store.get(third)
    assert last is not None and last.status is JobStatus.CANCELED
    assert domain.redis.zcard(domain.keys.quota("alice") + "running") == 0


def test_a_child_out_of_attempts_fails_the_parent_worker_lost(domain: JobDomain) -> None:
    _parent, children = split_parent(domain, children=2)
    for _attempt in range(2):  # max_attempts is 2 in these tests
        domain.store.claim(children[0], "w2")
        domain.redis.delete(domain.keys.lease(children[0]))
        domain.store.requeue_if_lease_expired(children[0])
    parent = domain.store.get("p")
    assert parent is not None and parent.status is JobStatus.FAILED
    assert parent.error is not None and parent.error.code == "worker_lost"


def test_cancelling_a_waiting_parent_cancels_it_and_its_children_at_once(
    domain: JobDomain,
) -> None:
    _parent, (first, second, _third) = split_parent(domain)
    domain.store.claim(first, "w2")
    assert domain.store.request_cancel("p") == "canceled"
    parent = domain.store.get("p")
    assert parent is not None and parent.status is JobStatus.CANCELED
    running = domain.store.get(first)
    assert running is not None and running.cancel_requested  # its worker stops at its next check
    queued = domain.store.get(second)
    assert queued is not None and queued.status is JobStatus.CANCELED
    # The running child ends canceled; the parent stays as it was.
    domain.store.finish(first, worker="w2", status=JobStatus.CANCELED)
    assert domain.store.get("p").status is JobStatus.CANCELED  # type: ignore[union-attr]


def test_a_split_of_a_job_asked_to_cancel_is_refused(domain: JobDomain) -> None:
    create_job(domain, Job(id="p", pipeline="noop", owner="alice"))
    domain.store.claim("p", "w1")
    domain.store.request_cancel("p")
    job = domain.store.get("p")
    assert job is not None
    with pytest.raises(SplitRefused, match="canceled"):
        fan_out(domain).split(
            job, worker="w1", children=[SegmentJob(plan={}, frames=1)], route=route(domain)
        )
    assert not domain.store.get("p").segments  # type: ignore[union-attr]


def test_children_move_one_progress_bar_forward_only(domain: JobDomain) -> None:
    _parent, children = split_parent(domain, children=2)
    first, second = (domain.store.get(child) for child in children)
    assert first is not None and second is not None
    fan = fan_out(domain)
    fan.segment_progress(first, frames_done=10)
    fan.segment_progress(second, frames_done=5)
    fan.segment_progress(first, frames_done=10)  # a repeat moves nothing
    parent = domain.store.get("p")
    assert parent is not None
    assert parent.progress.percent == pytest.approx(2 + 93 * 15 / 20)
    percents = [
        event.data["percent"]
        for event in domain.events.read_after("p")
        if event.type is EventType.PROGRESS
    ]
    assert percents == sorted(percents) and len(percents) == 2
    domain.store.request_cancel("p")
    fan.segment_progress(second, frames_done=10)  # the parent has ended: nothing moves
    after = domain.store.get("p")
    assert after is not None and after.progress.percent == parent.progress.percent


def test_owners_never_see_a_child(domain: JobDomain) -> None:
    _parent, children = split_parent(domain, children=2)

    async def views() -> tuple[object, object, list[str]]:
        client = async_client(domain)
        try:
            reader = JobReader(client, keys=domain.keys)
            page = await reader.list_for_owner("alice")
            return (
                await reader.get_for_owner("p", "alice"),
                await reader.get_for_owner(children[0], "alice"),
                [job.id for job in page.jobs],
            )
        finally:
            await client.aclose()

    parent, child, listed = asyncio.run(views())
    assert parent is not None and child is None
    assert listed == ["p"]
