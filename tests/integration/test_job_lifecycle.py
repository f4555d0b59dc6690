"""Jobs end to end on real processes: TTS → STT, engine reuse, cancel, a killed worker."""

from __future__ import annotations

import signal
import time

import httpx

from tests.integration.stack import Stack, wait_for_job
from tests.wer import SPOKEN_SENTENCE, word_error_rate

SENTENCE = SPOKEN_SENTENCE


def events_of(client: httpx.Client, job_id: str) -> list[str]:
    from tests.integration.test_events_stream import read_sse

    return [event["type"] for event in read_sse(client, job_id)]


def test_tts_then_stt_round_trip(stack: Stack) -> None:
    with stack.client("alice") as client:
        response = client.post("/v1/jobs/tts", data={"text": SENTENCE})
        assert response.status_code == 202, response.text
        job = response.json()
        assert response.headers["location"] == f"/v1/jobs/{job['id']}"
        done = wait_for_job(client, job["id"], timeout_s=120)
        assert done["status"] == "succeeded", done
        [output] = done["outputs"]
        audio = client.get(output["url"])
        assert audio.status_code == 200
        assert audio.content[:4] == b"RIFF"

        response = client.post(
            "/v1/jobs/stt",
            data={"language": "en", "format": "srt"},
            files={"file": ("speech.wav", audio.content, "audio/wav")},
        )
        assert response.status_code == 202, response.text
        transcribed = wait_for_job(client, response.json()["id"], timeout_s=180)
        assert transcribed["status"] == "succeeded", transcribed
        names = {o["name"] for o in transcribed["outputs"]}
        assert {"transcript.json", "transcript.srt"} <= names
        transcript = client.get(f"/v1/jobs/{transcribed['id']}/files/transcript.json").json()
        assert transcript["language"] == "en"
        assert transcript["segments"]
        assert word_error_rate(SENTENCE, transcript["text"]) <= 0.10


def test_later_tts_jobs_reuse_the_loaded_engine(stack: Stack) -> None:
    with stack.client("alice") as client:
        for text in ("First sentence.", "Second sentence.", "Third one."):
            job_id = client.post("/v1/jobs/tts", data={"text": text}).json()["id"]
            assert wait_for_job(client, job_id, timeout_s=120)["status"] == "succeeded"
        info = stack.worker_info("w1")
        assert info is not None
        [piper] = [e for e in info["engines"] if e["name"] == "tts.piper"]
        assert piper["load_count"] == 1
        assert piper["uses"] >= 3
        assert piper["load_time_s"] > 0


def test_range_download(stack: Stack) -> None:
    with stack.client("alice") as client:
        job_id = client.post("/v1/jobs/tts", data={"text": "Range me."}).json()["id"]
        job = wait_for_job(client, job_id, timeout_s=120)
        url = job["outputs"][0]["url"]
        whole = client.get(url).content
        part = client.get(url, headers={"Range": "bytes=10-99"})
        assert part.status_code == 206
        assert part.content == whole[10:100]
        assert part.headers["content-range"] == f"bytes 10-99/{len(whole)}"


def test_cancel_queued_and_running_jobs(stack: Stack) -> None:
    with stack.client("alice") as client:
        running = client.post("/v1/jobs/noop", data={"sleep_s": "30", "steps": "300"}).json()
        queued = client.post("/v1/jobs/noop", data={"sleep_s": "0"}).json()
        wait_for_job(client, running["id"], until={"running"}, timeout_s=30)
        assert client.get(f"/v1/jobs/{queued['id']}").json()["status"] == "queued"

        response = client.delete(f"/v1/jobs/{queued['id']}")
        assert response.status_code == 202
        assert client.get(f"/v1/jobs/{queued['id']}").json()["status"] == "canceled"

        asked = time.monotonic()
        assert client.delete(f"/v1/jobs/{running['id']}").status_code == 202
        stopped = wait_for_job(client, running["id"], timeout_s=10)
        assert stopped["status"] == "canceled"
        assert time.monotonic() - asked < 1.5

        # The worker moves on; the canceled queued job never starts.
        after = client.post("/v1/jobs/noop", data={"sleep_s": "0"}).json()
        assert wait_for_job(client, after["id"])["status"] == "succeeded"
        assert "started" not in events_of(client, queued["id"])


def test_killed_worker_job_finishes_once_on_another(make_stack) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack(workers=1)
    with stack.client() as client:
        job_id = client.post("/v1/jobs/noop", data={"sleep_s": "4", "steps": "40"}).json()["id"]
        wait_for_job(client, job_id, until={"running"}, timeout_s=30)
        time.sleep(0.5)
        stack.kill_worker("w1", signal.SIGKILL)
        killed_at = time.monotonic()
        stack.start_worker("w2")
        done = wait_for_job(client, job_id, timeout_s=30)
        lease_s = 3
        assert done["status"] == "succeeded", stack.logs()
        assert time.monotonic() - killed_at < lease_s + 4 + 5  # lease, then the 4 s job, slack
        assert done["attempts"] == 2
        assert done["worker"] == "w2"
        types = events_of(client, job_id)
        assert types.count("succeeded") == 1
        assert types.count("started") == 2
