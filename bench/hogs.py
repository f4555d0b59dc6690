"""CPU-bound processes beside a benchmark, as a shared machine has them, and the floor they set.

``Hogs(n)`` starts ``n`` processes that each keep one core busy (a pure Python
loop), every one in a session of its own as separate programs would be, and
stops them on leaving. ``fair_share_slowdown`` times a one-thread loop alone
and beside the hogs: no single-threaded work can slow less than that under the
kernel's fair scheduling, which is the yardstick for the engines' own ratios.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from types import TracebackType

HOG = "while True: pass"


class Hogs:
    """``n`` busy processes for the length of a ``with`` block."""

    def __init__(self, n: int) -> None:
        self._n = n
        self._processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Hogs:
        self._processes = [
            subprocess.Popen([sys.executable, "-c", HOG], start_new_session=True)
            for _ in range(self._n)
        ]
        time.sleep(1.0 if self._n else 0)  # let the scheduler spread them
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for process in self._processes:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _loop_seconds() -> float:
    started = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i
    return time.perf_counter() - started


def fair_share_slowdown(n: int, *, runs: int = 5) -> float:
    """How much slower a one-thread loop runs beside ``n`` hogs than alone (median ratio)."""
    alone = statistics.median(_loop_seconds() for _ in range(runs))
    with Hogs(n):
        beside = statistics.median(_loop_seconds() for _ in range(runs))
    return beside / alone


def load_average() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())
