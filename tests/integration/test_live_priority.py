"""A worker raises its CPU share while it hosts a live session, and puts it back after.

Real stack (Redis, gateway, one worker in a session of its own, as the
supervisor starts it): during a live face swap session the worker's autogroup
and every one of its threads run at ``worker.cpu_priority``; once the session
ends they are back at 0, so the batch jobs it runs next get no more than their
fair share.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.integration.stack import Stack, wait_for_job, wait_until
from tests.tools import missing_tool

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    deployment = Stack(
        tmp_path_factory.mktemp("live-priority"),
        settings={"VISIOVOX_WORKER__CPU_PRIORITY": "-7"},
    )
    try:
        deployment.start()
        yield deployment
    finally:
        deployment.stop()


def _nice_values(pid: int) -> tuple[int, set[int]]:
    """The process's autogroup nice value and its threads' nice values."""
    group = int(Path(f"/proc/{pid}/autogroup").read_text().split("nice")[1])
    threads = {os.getpriority(os.PRIO_PROCESS, int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}
    return group, threads


def test_the_hosting_worker_runs_above_its_share_only_while_the_session_lasts(
    stack: Stack,
) -> None:
    if os.geteuid() != 0:
        missing_tool("lowering a nice value needs root (CAP_SYS_NICE); run the tests as root")
    worker = stack.workers["w1"].pid
    assert _nice_values(worker) == (0, {0})

    with connect(stack.ws_url("/v1/live/face-swap"), max_size=None) as socket:
        socket.send(json.dumps({"type": "start_session"}))
        job_id = json.loads(socket.recv(timeout=10))["job_id"]
        socket.send((FIXTURES / "grace_hopper.jpg").read_bytes())
        assert json.loads(socket.recv(timeout=30)) == {"type": "ready"}

        assert _nice_values(worker) == (-7, {-7})

        socket.send(json.dumps({"type": "end_session"}))
        wait_until(
            lambda: json.loads(socket.recv(timeout=10))["type"] == "session_ended",
            timeout_s=30,
            what="session_ended",
        )
    with stack.client() as client:
        assert wait_for_job(client, job_id)["status"] == "succeeded"
    wait_until(lambda: _nice_values(worker) == (0, {0}), timeout_s=10, what="priority restored")
