"""Deployments with different ``redis.prefix`` share one Redis; queues of before are moved.

Two stacks on one embedded Redis each run their own jobs, and neither's worker
takes the other's. A deployment whose messages wait under the fixed queue
names of before (``vv.cpu``) runs them once its worker starts.
"""

from __future__ import annotations

from pathlib import Path

import redis

from tests.integration.stack import Stack, wait_for_job
from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.queues import queue_lists
from visiovox.jobs.task_message import job_id_of


def test_two_deployments_on_one_redis_keep_to_their_own(tmp_path: Path) -> None:
    alpha = Stack(tmp_path / "alpha", settings={"VISIOVOX_REDIS__PREFIX": "alpha"})
    beta = Stack(tmp_path / "beta", settings={"VISIOVOX_REDIS__PREFIX": "beta"}, redis=alpha.redis)
    for stack in (alpha, beta):
        stack.root.mkdir()
    try:
        alpha.start(workers=1)
        beta.start(workers=0)
        client = redis.Redis.from_url(alpha.redis.url)
        with alpha.client() as a, beta.client() as b:
            waiting = b.post("/v1/jobs/noop", data={"sleep_s": "0"}).json()
            on_beta = [
                job_id_of(m) for q in queue_lists("beta.cpu") for m in client.lrange(q, 0, -1)
            ]
            assert on_beta == [waiting["id"]]
            for _ in range(3):  # alpha's worker is free and busy: never with beta's job
                job = a.post("/v1/jobs/noop", data={"sleep_s": "0"}).json()
                assert wait_for_job(a, job["id"])["status"] == "succeeded", alpha.logs()
                assert b.get(f"/v1/jobs/{job['id']}").status_code == 404
            assert b.get(f"/v1/jobs/{waiting['id']}").json()["status"] == "queued"
            assert a.get(f"/v1/jobs/{waiting['id']}").status_code == 404
            assert (alpha.registered(), beta.registered()) == ({"w1"}, set())
            assert list(client.scan_iter("vv*")) == []  # nothing under the default names
            beta.start_worker("w1")  # the same name, in another deployment
            assert wait_for_job(b, waiting["id"])["status"] == "succeeded", beta.logs()
        for stack, prefix in ((alpha, "alpha"), (beta, "beta")):
            info = stack.worker_info("w1")
            assert info is not None and info["queues"] == [f"{prefix}.cpu", f"{prefix}.worker.w1"]
        client.close()
    finally:
        beta.stop()
        alpha.stop()


def test_messages_under_the_queue_names_of_before_run_when_the_worker_starts(
    tmp_path: Path,
) -> None:
    # A lease past the test's waits: the janitor's search for lost messages cannot
    # be what runs them.
    settings = {"VISIOVOX_REDIS__PREFIX": "gamma", "VISIOVOX_JOBS__LEASE_S": "120"}
    stack = Stack(tmp_path, settings=settings)
    try:
        stack.start(workers=0)
        client = redis.Redis.from_url(stack.redis.url)
        with stack.client() as http:
            ids = [http.post("/v1/jobs/noop", data={"sleep_s": "0"}).json()["id"] for _ in range(3)]
            # Where a gateway of before left them: the fixed name, whatever the prefix.
            dispatcher = Dispatcher(client)
            for job_id in dispatcher.drain_queue("gamma.cpu"):
                dispatcher.dispatch(job_id, queue="vv.cpu")
            old_lists = queue_lists("vv.cpu")
            assert sum(client.llen(name) for name in old_lists) == len(ids)
            stack.start_worker("w1")
            for job_id in ids:
                done = wait_for_job(http, job_id, timeout_s=30)
                assert (done["status"], done["attempts"]) == ("succeeded", 1), stack.logs()
            assert sum(client.llen(name) for name in old_lists) == 0
        client.close()
    finally:
        stack.stop()
