"""What the lock check costs every ``scripts/serve`` and ``scripts/test``: ``scripts/lock --check``.

``scripts/_setup.sh`` runs ``scripts/lock --check`` (standard library only: read
pyproject.toml, hash its dependency tables, compare with each lock's header)
before anything else. This times it for one lock and for all four against the
baseline of starting the same interpreter with nothing to do, and the whole
``_setup.sh`` when its stamp says nothing changed (the check, then no install).
Medians of RUNS interleaved runs; the load average is printed, since others may
share the machine.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 30


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    commands = {
        "bare interpreter (baseline)": [sys.executable, "-c", "pass"],
        "lock --check requirements/dev.txt": [
            sys.executable,
            "scripts/lock",
            "--check",
            "requirements/dev.txt",
        ],
        "lock --check (all four locks)": [sys.executable, "scripts/lock", "--check"],
        "_setup.sh dev, stamp current": ["bash", "scripts/_setup.sh", "dev"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(RUNS):
        for name, command in commands.items():
            times[name].append(_timed(command))
    baseline = statistics.median(times["bare interpreter (baseline)"])
    print(f"load average {os.getloadavg()[0]:.2f}; medians of {RUNS} runs")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:36} {median * 1e3:7.1f} ms  ({median / baseline:.2f}x the baseline)")


if __name__ == "__main__":
    main()
