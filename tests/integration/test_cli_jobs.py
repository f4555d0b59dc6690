"""``visiovox jobs`` against the real stack: the process's exit code, stdout and stderr."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faces import ASTRONAUT
from tests.integration.stack import Stack, free_port, wait_for_job, wait_until

pytestmark = pytest.mark.slow


def jobs_cli(
    stack: Stack, *args: str, key: str | None = "alice", timeout_s: float = 180
) -> subprocess.CompletedProcess[str]:
    """``visiovox jobs ARGS`` with the stack's URL and ``key``'s API key in the environment."""
    env = {**stack.env, "VISIOVOX_URL": stack.base_url}
    env.pop("VISIOVOX_API_KEY", None)
    if key is not None:
        env["VISIOVOX_API_KEY"] = stack.api_keys[key]
    return subprocess.run(
        [sys.executable, "-m", "visiovox", "jobs", *args],
        env=env,
        cwd=stack.root,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def blank_png(path: Path) -> Path:
    import cv2
    import numpy as np

    assert cv2.imwrite(str(path), np.full((120, 160, 3), 90, dtype=np.uint8))
    return path


def test_submit_wait_downloads_the_tts_audio(stack: Stack, tmp_path: Path) -> None:
    done = jobs_cli(
        stack,
        "submit",
        "tts",
        "--param",
        "text=Hello from the command line.",
        "--out",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    job_id, wav_path = done.stdout.split()
    assert re.fullmatch(r"[0-9a-f]{32}", job_id), done.stdout
    audio = Path(wav_path).read_bytes()
    assert Path(wav_path).parent == tmp_path
    assert audio[:4] == b"RIFF" and len(audio) > 10_000
    assert "succeeded" in done.stderr
    listed = jobs_cli(stack, "list", "--pipeline", "tts", "--status", "succeeded")
    assert listed.returncode == 0 and job_id in listed.stdout


def test_watch_follows_a_running_job_to_its_end(stack: Stack) -> None:
    with stack.client("alice") as alice:
        job_id = alice.post("/v1/jobs/noop", data={"sleep_s": "2", "steps": "10"}).json()["id"]
    watched = jobs_cli(stack, "watch", job_id)
    assert watched.returncode == 0, watched.stderr
    lines = watched.stderr.splitlines()
    assert any(line.startswith("progress percent=") for line in lines), watched.stderr
    assert any(line.startswith("succeeded") for line in lines), watched.stderr
    shown = jobs_cli(stack, "get", job_id)
    assert '"status": "succeeded"' in shown.stdout


def test_cancel_ends_a_watch_with_exit_3(stack: Stack) -> None:
    with stack.client("alice") as alice:
        job_id = alice.post("/v1/jobs/noop", data={"sleep_s": "60", "steps": "600"}).json()["id"]
        wait_for_job(alice, job_id, timeout_s=60, until={"running"})
    env = {**stack.env, "VISIOVOX_URL": stack.base_url, "VISIOVOX_API_KEY": stack.api_keys["alice"]}
    watcher = subprocess.Popen(
        [sys.executable, "-m", "visiovox", "jobs", "watch", job_id],
        env=env,
        cwd=stack.root,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        canceled = jobs_cli(stack, "cancel", job_id)
        assert canceled.returncode == 0, canceled.stderr
        assert canceled.stdout.split() in ([job_id, "canceled"], [job_id, "running"])
        _, stderr = watcher.communicate(timeout=60)
    finally:
        watcher.kill()
    assert watcher.returncode == 3, stderr
    again = jobs_cli(stack, "cancel", job_id)
    assert again.returncode == 2
    assert again.stderr.startswith("error: job_finished: "), again.stderr


def test_json_params_reach_a_chat_job(stack: Stack) -> None:
    question = '[{"role": "user", "content": "Say hello."}]'
    done = jobs_cli(
        stack, "submit", "chat", "--json", f"messages={question}", "--param", "max_tokens=8",
        "--wait",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = jobs_cli(stack, "get", done.stdout.strip())
    record = json.loads(shown.stdout)
    assert record["params"]["messages"] == json.loads(question)
    assert record["params"]["max_tokens"] == 8 and record["result"]["text"]
    broken = jobs_cli(stack, "submit", "chat", "--json", "messages=[{")
    assert broken.returncode == 2 and "--json" in broken.stderr


def test_a_failed_job_exits_1_with_its_error(stack: Stack, tmp_path: Path) -> None:
    done = jobs_cli(
        stack,
        "submit",
        "face-swap",
        "--file",
        f"source={blank_png(tmp_path / 'blank.png')}",
        "--file",
        f"target={ASTRONAUT}",
        "--wait",
    )
    assert done.returncode == 1, done.stderr
    assert "error: no_face_found: " in done.stderr


def test_wait_past_its_timeout_exits_5(stack: Stack) -> None:
    done = jobs_cli(
        stack, "submit", "noop", "--param", "sleep_s=60", "--param", "steps=600", "--wait",
        "--timeout", "1.5",
    )  # fmt: skip
    assert done.returncode == 5, done.stderr
    assert "error: timed_out: " in done.stderr
    job_id = done.stdout.strip()
    assert jobs_cli(stack, "cancel", job_id).returncode == 0
    with stack.client("alice") as alice:
        assert wait_for_job(alice, job_id, timeout_s=30)["status"] == "canceled"


def test_the_api_refusals_keep_their_code(stack: Stack, tmp_path: Path) -> None:
    unknown = jobs_cli(stack, "submit", "no-such-pipeline")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: unknown_pipeline: "), unknown.stderr
    invalid = jobs_cli(stack, "submit", "tts", "--param", "speed=fast", "--param", "text=Hi.")
    assert invalid.returncode == 2 and invalid.stderr.startswith("error: "), invalid.stderr
    malformed = jobs_cli(stack, "submit", "tts", "--param", "no-equals-sign")
    assert malformed.returncode == 2 and "KEY=VALUE" in malformed.stderr
    missing = jobs_cli(stack, "submit", "stt", "--file", f"audio={tmp_path / 'absent.wav'}")
    assert missing.returncode == 2


def test_no_service_or_a_bad_key_exits_4(stack: Stack) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    unreachable = jobs_cli(stack, "list", "--url", nobody)
    assert unreachable.returncode == 4
    assert unreachable.stderr.startswith(f"error: unreachable: cannot reach {nobody}")
    anonymous = jobs_cli(stack, "list", key=None)
    assert anonymous.returncode == 4
    assert anonymous.stderr.startswith("error: unauthorized: "), anonymous.stderr
    wait_until(lambda: stack.worker_info("w1", states=("ready",)), timeout_s=60, what="w1 ready")
