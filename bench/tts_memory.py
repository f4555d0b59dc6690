"""Worker memory through TTS bombs: RSS baseline, peak and after for each input.

One real deployment (embedded Redis, gateway, one CPU worker). The baseline is
the worker's RSS after a small warm-up TTS job; before each input the peak
(VmHWM) is restarted through ``/proc/<pid>/clear_refs``, so no peak falls
between samples; "after" is the RSS two seconds after the job ended. Inputs:
a normal paragraph, 4,096 characters without sentence punctuation, 2,000
characters of ``\\u202e\\u200b\\ufeff😀`` (nothing speakable: refused), and the
same with a letter in front (spoken: espeak reads each emoji's name). Last,
``cancel``: how long a cancel of the unpunctuated job takes once it is
synthesising (median of 5).

    python -m bench.tts_memory [normal unpunctuated invisible-emoji emoji cancel]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from tests.integration.process_memory import ProcessMemory
from tests.integration.stack import Stack, wait_for_job, wait_until

WORDS = ["speak", "this", "long", "text", "without", "ever", "stopping", "for", "breath"]
INPUTS = {
    "normal": "The quick brown fox jumps over the lazy dog. It rests by the old stone bridge, "
    "then runs home across the fields before the rain. Nobody saw it go.",
    "unpunctuated": (" ".join(WORDS * 100))[:4096].strip(),
    "invisible-emoji": "\u202e\u200b\ufeff\U0001f600" * 500,
    "emoji": "a" + "\u202e\u200b\ufeff\U0001f600" * 500,
}
SETTLE_S = 2.0
CANCEL_RUNS = 5


def measure(client: httpx.Client, memory: ProcessMemory, text: str) -> str:
    """One row: the answer, the audio made, the time, and RSS baseline / peak / after."""
    baseline = memory.rss_mb()
    memory.reset_peak()
    started = time.perf_counter()
    response = client.post("/v1/jobs/tts", json={"text": text})
    if response.status_code != 202:
        answer = f"{response.status_code} {response.json()['error']['code']}"
        return f"{answer:<24} {'':>9} {time.perf_counter() - started:7.1f} s  {baseline:6.0f}"
    job = wait_for_job(client, response.json()["id"], timeout_s=1_800)
    took = time.perf_counter() - started
    peak = memory.peak_mb()
    time.sleep(SETTLE_S)
    after = memory.rss_mb()
    outcome = f"{job['status']} {job['error']['code'] if job['error'] else ''}"
    audio = f"{job['result']['duration_s']:7.1f} s" if job["result"] else ""
    memory_mb = f"{baseline:6.0f} {peak:6.0f} {after:6.0f}"
    return f"{outcome:<24} {audio:>9} {took:7.1f} s  {memory_mb}  (+{peak - baseline:.0f})"


def cancel_latency(client: httpx.Client, text: str) -> float:
    """Seconds from DELETE to ``canceled`` for a job that is synthesising ``text``."""
    job_id = client.post("/v1/jobs/tts", json={"text": text}).json()["id"]
    wait_until(
        lambda: client.get(f"/v1/jobs/{job_id}").json()["progress"]["percent"] > 0,
        timeout_s=120,
        what="the first piece",
    )
    asked = time.perf_counter()
    client.delete(f"/v1/jobs/{job_id}")
    wait_for_job(client, job_id, timeout_s=60)
    return time.perf_counter() - asked


def main() -> None:
    names = sys.argv[1:] or [*INPUTS, "cancel"]
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp) / "stack").start(workers=1)
        try:
            memory = ProcessMemory(stack.workers["w1"].pid)
            with stack.client() as client:
                warm_up = client.post("/v1/jobs/tts", json={"text": "Hello there, warming up."})
                wait_for_job(client, warm_up.json()["id"], timeout_s=120)
                print(f"worker pid {memory.pid}, warm RSS {memory.rss_mb():.0f} MB")
                header = f"{'input':<16} {'outcome':<24} {'audio':>9} {'time':>9}"
                print(f"{header}  RSS MB: before peak after")
                for name in (name for name in names if name in INPUTS):
                    print(f"{name:<16} {measure(client, memory, INPUTS[name])}", flush=True)
                if "cancel" in names:
                    text = INPUTS["unpunctuated"]
                    waits = [cancel_latency(client, text) for _ in range(CANCEL_RUNS)]
                    print(
                        f"cancel of the unpunctuated job: median {statistics.median(waits):.2f} s, "
                        f"max {max(waits):.2f} s ({CANCEL_RUNS} runs)"
                    )
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
