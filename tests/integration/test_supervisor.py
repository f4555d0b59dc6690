"""``visiovox up`` restarts a child that dies, and gives up on a crash loop."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from tests.integration.stack import wait_for_job, wait_until
from tests.integration.test_events_stream import read_sse
from tests.integration.up import Up


def submit_noop(client: httpx.Client, *, sleep_s: float = 0, steps: int = 1) -> str | None:
    """A noop job's id, or None while the gateway cannot take it."""
    try:
        response = client.post("/v1/jobs/noop", data={"sleep_s": str(sleep_s), "steps": str(steps)})
    except httpx.HTTPError:
        return None
    return str(response.json()["id"]) if response.status_code == 202 else None


def test_a_killed_redis_comes_back_with_its_data_and_service_resumes(tmp_path: Path) -> None:
    up = Up(tmp_path).start()
    try:
        with up.client() as client:
            before = submit_noop(client)
            assert before is not None
            assert wait_for_job(client, before)["status"] == "succeeded"
            events = read_sse(client, before)
            busy = submit_noop(client, sleep_s=3, steps=30)
            queued = [submit_noop(client) for _ in range(3)]
            assert busy is not None and None not in queued
            wait_for_job(client, busy, until={"running"}, timeout_s=30)
            time.sleep(1.2)  # appendfsync everysec: what is older than a second is on disk
            killed = up.kill_child("redis")
            wait_until(
                lambda: up.child_pid("redis") not in (None, killed), timeout_s=10, what="new Redis"
            )
            after = wait_until(lambda: submit_noop(client), timeout_s=30, what="a job accepted")
            assert wait_for_job(client, after, timeout_s=30)["status"] == "succeeded", up.logs()
            assert wait_until(up.ready, timeout_s=10, what="/readyz 200")
            assert client.get(f"/v1/jobs/{before}").json()["status"] == "succeeded"
            assert read_sse(client, before) == events
            for job_id in [busy, *queued]:
                job = wait_for_job(client, str(job_id), timeout_s=30)
                assert (job["status"], job["attempts"]) == ("succeeded", 1), up.logs()
        assert up.process is not None and up.process.poll() is None
        assert f"redis (pid {killed}) died (killed by SIGKILL); restarting it" in up.logs()
    finally:
        up.close()


def test_a_killed_worker_is_replaced_and_its_job_runs_again(tmp_path: Path) -> None:
    up = Up(tmp_path).start()
    try:
        with up.client() as client:
            running = submit_noop(client, sleep_s=2, steps=20)
            assert running is not None
            wait_for_job(client, running, until={"running"}, timeout_s=30)
            killed = up.kill_child("worker")
            queued = submit_noop(client)
            assert queued is not None
            wait_until(
                lambda: up.child_pid("worker") not in (None, killed),
                timeout_s=10,
                what="new worker",
            )
            assert wait_for_job(client, queued, timeout_s=60)["status"] == "succeeded", up.logs()
            rerun = wait_for_job(client, running, timeout_s=60)
            assert (rerun["status"], rerun["attempts"]) == ("succeeded", 2), up.logs()
        assert up.process is not None and up.process.poll() is None
        assert f"worker (pid {killed}) died (killed by SIGKILL); restarting it" in up.logs()
    finally:
        up.close()


def test_a_crash_loop_stops_everything_and_exits_non_zero(tmp_path: Path) -> None:
    # An unknown device makes `visiovox worker` exit at once (status 2), every time.
    up = Up(
        tmp_path,
        settings={
            "VISIOVOX_WORKER__DEVICE": "tpu",
            "VISIOVOX_SUPERVISOR__MAX_RESTARTS": "2",
            "VISIOVOX_SUPERVISOR__RESTART_WINDOW_S": "60",
        },
    ).start(ready=False)
    assert up.process is not None
    try:
        assert up.process.wait(timeout=60) == 1, up.logs()
        logs = up.logs()
        assert len(re.findall(r"worker \(pid \d+\) died \(exit status 2\); restarting", logs)) == 2
        assert re.search(
            r"worker \(pid \d+\) died \(exit status 2\), 3 times within 60 s: crash loop; "
            "stopping VisioVox",
            logs,
        ), logs
        assert not up.ready()
        assert not (tmp_path / "redis" / "redis.sock").exists()  # Redis stopped too
    finally:
        up.close()
