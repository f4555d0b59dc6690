"""Graceful drain on real worker processes: SIGTERM finishes the job, a second one stops at once."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.integration.stack import Stack, wait_for_job, wait_until

DRAIN_TIMEOUT_S = 3


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    deployment = Stack(
        tmp_path_factory.mktemp("drain"),
        settings={"VISIOVOX_WORKER__DRAIN_TIMEOUT_S": str(DRAIN_TIMEOUT_S)},
    )
    try:
        yield deployment.start(workers=0)
    finally:
        deployment.stop()


def exit_code(process: subprocess.Popen[bytes], timeout_s: float) -> int:
    return process.wait(timeout=timeout_s)


def test_sigterm_finishes_the_current_job_takes_no_new_one_and_deregisters(stack: Stack) -> None:
    worker = stack.start_worker("d1")
    with stack.client() as client:
        current = client.post("/v1/jobs/noop", data={"sleep_s": "1.5", "steps": "15"}).json()
        waiting = client.post("/v1/jobs/noop", data={"sleep_s": "0"}).json()
        wait_for_job(client, current["id"], until={"running"}, timeout_s=30)
        worker.send_signal(signal.SIGTERM)
        wait_until(
            lambda: stack.worker_info("d1", states=("draining",)), timeout_s=5, what="draining"
        )
        assert exit_code(worker, timeout_s=20) == 0, stack.logs()
        stack.workers.pop("d1")
        assert "d1" not in stack.registered()
        done = client.get(f"/v1/jobs/{current['id']}").json()
        assert (done["status"], done["worker"], done["attempts"]) == ("succeeded", "d1", 1)
        assert client.get(f"/v1/jobs/{waiting['id']}").json()["status"] == "queued"

        stack.start_worker("d2")
        finished = wait_for_job(client, waiting["id"], timeout_s=30)
        assert (finished["status"], finished["worker"], finished["attempts"]) == (
            "succeeded",
            "d2",
            1,
        )
    stack.kill_worker("d2", signal.SIGTERM)


@pytest.mark.parametrize("second_signal", [True, False], ids=["second-sigterm", "drain-timeout"])
def test_stopping_mid_job_puts_the_job_back_at_once(stack: Stack, second_signal: bool) -> None:
    name = "s1" if second_signal else "t1"
    worker = stack.start_worker(name)
    with stack.client() as client:
        long = client.post("/v1/jobs/noop", data={"sleep_s": "60", "steps": "600"}).json()
        wait_for_job(client, long["id"], until={"running"}, timeout_s=30)
        worker.send_signal(signal.SIGTERM)
        wait_until(
            lambda: stack.worker_info(name, states=("draining",)), timeout_s=5, what="draining"
        )
        signalled = time.monotonic()
        if second_signal:
            worker.send_signal(signal.SIGTERM)
        assert exit_code(worker, timeout_s=DRAIN_TIMEOUT_S + 10) == 143, stack.logs()
        stopped_after = time.monotonic() - signalled
        stack.workers.pop(name)
        if second_signal:
            assert stopped_after < 2
        else:
            assert DRAIN_TIMEOUT_S - 0.5 < stopped_after < DRAIN_TIMEOUT_S + 3
        assert name not in stack.registered()
        # Given back at once (not after the lease): queued again, on the shared queue.
        job = client.get(f"/v1/jobs/{long['id']}").json()
        assert (job["status"], job["attempts"]) == ("queued", 1)
        stack.start_worker(name + "b")
        again = wait_for_job(client, long["id"], until={"running"}, timeout_s=30)
        assert (again["worker"], again["attempts"]) == (name + "b", 2)
        assert client.delete(f"/v1/jobs/{long['id']}").status_code == 202
        assert wait_for_job(client, long["id"], timeout_s=10)["status"] == "canceled"
    stack.kill_worker(name + "b", signal.SIGTERM)
