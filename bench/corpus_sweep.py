"""Gateway and worker memory over the bad-input corpus sweep: baseline, peak, after.

One real deployment (embedded Redis, auth on, gateway, one CPU worker), warmed
with one spoken WAV and one unmeasured round (so the engines that the sweep
loads, such as face detection, are in the baseline). Both processes' peaks
(VmHWM) are restarted through ``/proc/<pid>/clear_refs`` before the sweep, so
no peak falls between samples;
"after" is the RSS two seconds after every accepted job ended. The sweep is
``tests/integration/corpus_sweep.py``: every broken, malicious and unspeakable
input of ``tests/corpus.py`` at every endpoint that takes its kind.

    python -m bench.corpus_sweep [rounds]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from tests.integration.corpus_sweep import speech_wav, sweep, wait_all_finished
from tests.integration.process_memory import ProcessMemory
from tests.integration.stack import Stack

SETTLE_S = 2.0


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp) / "stack", settings={"VISIOVOX_AUTH__ENABLED": "on"})
        try:
            stack.start(workers=1, owners=("mallory",))
            assert stack.gateway is not None
            processes = {
                "gateway": ProcessMemory(stack.gateway.pid),
                "worker": ProcessMemory(stack.workers["w1"].pid),
            }
            with stack.client("mallory") as client:
                client.timeout = 120
                speech = speech_wav(client)
                (Path(tmp) / "warm").mkdir()
                sweep(client, folder=Path(tmp) / "warm", speech=speech)
                wait_all_finished(client)
                baseline = {name: memory.rss_mb() for name, memory in processes.items()}
                for memory in processes.values():
                    memory.reset_peak()
                started = time.perf_counter()
                accepted: dict[str, str] = {}
                for index in range(rounds):
                    folder = Path(tmp) / f"round{index}"
                    folder.mkdir()
                    accepted |= sweep(client, folder=folder, speech=speech)
                jobs = wait_all_finished(client, timeout_s=600)
                took = time.perf_counter() - started
            peaks = {name: memory.peak_mb() for name, memory in processes.items()}
            time.sleep(SETTLE_S)
            codes = sorted({(job.get("error") or {}).get("code", "-") for job in jobs})
            print(f"{rounds} round(s) in {took:.1f} s; {len(accepted)} jobs reached the worker")
            print(f"their outcomes: {', '.join(codes)}")
            print(f"{'process':<8} RSS MB: baseline   peak  after")
            for name, memory in processes.items():
                print(
                    f"{name:<8} {baseline[name]:16.0f} {peaks[name]:6.0f} {memory.rss_mb():6.0f}"
                    f"  (peak +{peaks[name] - baseline[name]:.0f})"
                )
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
