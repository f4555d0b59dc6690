"""Stopping and starting ``visiovox up`` loses nothing: keys, jobs, events, queued work."""

from __future__ import annotations

from pathlib import Path

from tests.integration.stack import wait_for_job
from tests.integration.test_events_stream import read_sse
from tests.integration.up import Up


def test_keys_jobs_events_and_queued_jobs_survive_a_restart(tmp_path: Path) -> None:
    up = Up(tmp_path, settings={"VISIOVOX_AUTH__ENABLED": "on"}).start()
    try:
        key = up.create_key("alice")
        with up.client(key) as client:
            done = client.post("/v1/jobs/noop", data={"sleep_s": "0"}).json()["id"]
            assert wait_for_job(client, done)["status"] == "succeeded"
            done_events = read_sse(client, done)
            # One job keeps the worker busy while three more wait behind it; SIGTERM
            # lets the worker finish the running one and take no other.
            busy = client.post("/v1/jobs/noop", data={"sleep_s": "1", "steps": "10"}).json()["id"]
            queued = [
                client.post("/v1/jobs/noop", data={"sleep_s": "0"}).json()["id"] for _ in range(3)
            ]
            wait_for_job(client, busy, until={"running"})
            assert up.stop() == 0, up.logs()
        assert (tmp_path / "redis" / "appendonly.aof").stat().st_size > 0

        up.start()
        with up.client(key) as client:
            assert client.get("/v1/jobs").status_code == 200  # the key still authenticates
            assert client.get(f"/v1/jobs/{done}").json()["status"] == "succeeded"
            assert read_sse(client, done) == done_events
            assert client.get(f"/v1/jobs/{busy}").json()["status"] == "succeeded"
            for job_id in queued:
                finished = wait_for_job(client, job_id, timeout_s=60)
                assert (finished["status"], finished["attempts"]) == ("succeeded", 1), up.logs()
                assert read_sse(client, job_id)[-1]["type"] == "succeeded"
        assert up.stop() == 0, up.logs()
    finally:
        up.close()
