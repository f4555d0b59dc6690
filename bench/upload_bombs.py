"""The gateway's resident memory while it refuses image decompression bombs.

One gateway process (no worker) on this machine; for each bomb of
``tests/integration/bomb_load.py``, COPIES face-swap submissions with it as
the target are sent at once, and the gateway's RSS is read before (baseline),
at its peak during (``VmHWM``, restarted before each round) and after.
"""

from __future__ import annotations

import collections
import os
import tempfile
import time
from pathlib import Path

import httpx
from tests.integration.bomb_load import BOMBS, measure_bomb
from tests.integration.stack import Stack

COPIES = 8


def answer_of(response: httpx.Response) -> str:
    """The status, with the error code of a refusal."""
    if response.status_code < 400:
        return str(response.status_code)
    return f"{response.status_code} {response.json()['error']['code']}"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp)).start(workers=0, owners=("bench",))
        try:
            print(f"{COPIES} concurrent face-swap submissions per bomb; gateway RSS in MB")
            print(
                f"{'bomb':<20} {'bytes':>6} {'answers':<22} {'baseline':>8} {'peak':>8} "
                f"{'after':>8} {'seconds':>8}"
            )
            for name, (data, _status, _code) in BOMBS.items():
                started = time.perf_counter()
                responses, memory = measure_bomb(stack, owner="bench", bomb=name, copies=COPIES)
                seconds = time.perf_counter() - started
                answers = collections.Counter(answer_of(response) for response in responses)
                answer = ", ".join(f"{count}x {text}" for text, count in answers.items())
                print(
                    f"{name:<20} {len(data):>6} {answer:<22} {memory.baseline_mb:>8.0f} "
                    f"{memory.peak_mb:>8.0f} {memory.after_mb:>8.0f} {seconds:>8.2f}"
                )
        finally:
            stack.stop()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
