"""How many CPU cores are free for this process now: what a native thread pool should use.

A pool that splits every step across threads waits at each step for its
slowest thread; when another process holds a core, that thread waits for the
scheduler and the whole pool stalls (llama.cpp went from 0.1 s to 15 s for a
short reply with two busy processes beside it). Sizing the pool to the cores
other processes leave free avoids it.

The estimate is the machine's busy CPU time (``/proc/stat``) minus this
process's own (``time.process_time``) over the last sampling window, taken
from the cores this process may run on (its affinity and its cgroup's CPU
quota). Where ``/proc/stat`` cannot be read, every usable core counts as free.
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

PROC_STAT = Path("/proc/stat")
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
# How often the meter samples; the estimate covers the last such window.
WINDOW_S = 0.25
# Idle and iowait are the fields of the ``cpu`` line that are not busy time.
IDLE_FIELDS = (3, 4)


def usable_cores(cgroup_cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup quota."""
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = cgroup_cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return cores
    if quota == "max":
        return cores
    return max(1, min(cores, math.ceil(int(quota) / int(period))))


def busy_seconds(proc_stat: Path = PROC_STAT) -> float | None:
    """CPU seconds the whole machine has spent busy since boot, or None if unknown."""
    try:
        with proc_stat.open() as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    busy_ticks = sum(v for i, v in enumerate(fields) if i not in IDLE_FIELDS)
    return busy_ticks / os.sysconf("SC_CLK_TCK")


class FreeCores:
    """Tells, at no cost, how many cores other processes leave this one; ``update`` takes
    a sample (``watch`` runs it every ``WINDOW_S`` on a daemon thread)."""

    def __init__(self, *, cores: int | None = None, proc_stat: Path = PROC_STAT) -> None:
        self._cores = cores or usable_cores()
        self._proc_stat = proc_stat
        self._last = self._sample()
        self._free = self._cores
        # Set while this process's CPU share is raised above the others'
        # (worker/cpu_priority.py): the scheduler then gives it every core first.
        self.prioritised = False

    @property
    def cores(self) -> int:
        return self._cores

    def now(self) -> int:
        """Cores free of other processes' work over the last window (at least 1); every
        usable core while this process is prioritised."""
        return self._cores if self.prioritised else self._free

    def update(self) -> None:
        sample = self._sample()
        wall = sample[0] - self._last[0]
        if wall > 0 and sample[1] is not None and self._last[1] is not None:
            others = (sample[1] - self._last[1] - (sample[2] - self._last[2])) / wall
            self._free = max(1, min(self._cores, round(self._cores - max(0.0, others))))
        self._last = sample

    def watch(self) -> FreeCores:
        threading.Thread(target=self._watch, name="free-cores", daemon=True).start()
        return self

    def _watch(self) -> None:
        while True:
            time.sleep(WINDOW_S)
            self.update()

    def _sample(self) -> tuple[float, float | None, float]:
        return time.monotonic(), busy_seconds(self._proc_stat), time.process_time()


_shared: FreeCores | None = None
_shared_lock = threading.Lock()


def free_cores() -> FreeCores:
    """The process's one meter, watching from its first use (every engine asks the same)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = FreeCores().watch()
        return _shared
