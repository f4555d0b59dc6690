"""The worker's CPU share while it runs latency-bound work: above the batch work beside it.

Every stage of a live session or a conversation turn (speech to text, the model,
speech; or a frame's swap) is compute on the way to the user's ear or eye, and
under the kernel's fair share two busy processes on a 2-core box slow all of it
about 2× (`docs/benchmarks.md`). While it runs a job of a live or interactive
pipeline (``PipelineSpec.latency_bound``), the worker lowers its nice value to
``worker.cpu_priority``, in the two places the kernel weighs it:

- its autogroup's (``/proc/self/autogroup``): where the kernel groups tasks by
  session, a group's share against the others' comes from this value alone
  (the worker is started in a session of its own);
- each of its threads' (``/proc/self/task``): the share inside its cgroup where
  the kernel does not group by session (containers, systemd slices). Threads
  started later inherit the value of the thread that starts them.

Lowering a nice value needs ``CAP_SYS_NICE`` (root, or ``cap_add: [SYS_NICE]``
in compose) or an ``RLIMIT_NICE`` that allows it; without it the worker logs
once and runs as before. While the share is raised the engines' native pools
count every core as free (``FreeCores.prioritised``): the scheduler gives them
the cores before the work beside them.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from visiovox.engines.free_cores import FreeCores

logger = logging.getLogger(__name__)

AUTOGROUP = Path("/proc/self/autogroup")
TASKS = Path("/proc/self/task")


class CpuPriority:
    """Raises this process's CPU share with ``raise_share`` and puts it back with ``restore``."""

    def __init__(
        self,
        nice: int,
        *,
        cores: FreeCores | None = None,
        autogroup: Path = AUTOGROUP,
        tasks: Path = TASKS,
    ) -> None:
        self._nice = nice
        self._cores = cores
        self._autogroup = autogroup
        self._tasks = tasks
        self._saved_group: int | None = None
        self._saved_threads: dict[int, int] = {}
        self._refused = False

    @property
    def raised(self) -> bool:
        return self._saved_group is not None or bool(self._saved_threads)

    @contextlib.contextmanager
    def held(self, wanted: bool = True) -> Iterator[None]:
        """The raised share for the ``with`` block (the normal one when not ``wanted``)."""
        if not wanted:
            yield
            return
        self.raise_share()
        try:
            yield
        finally:
            self.restore()

    def raise_share(self) -> None:
        """Lower the nice values to the configured one (a no-op at 0 or when refused before)."""
        if self._nice == 0 or self._refused or self.raised:
            return
        try:
            self._saved_group = self._set_group(self._nice)
            self._saved_threads = self._set_threads(lambda _tid: self._nice)
        except PermissionError:
            self.restore()
            self._refused = True
            logger.warning(
                "latency-bound jobs run at normal CPU priority: lowering the nice value to %d "
                "needs CAP_SYS_NICE (root, or cap_add: [SYS_NICE] in compose); "
                "worker.cpu_priority: 0 silences this",
                self._nice,
            )
            return
        if self._cores is not None:
            self._cores.prioritised = True

    def restore(self) -> None:
        """Put back the nice values found before ``raise_share``."""
        if self._cores is not None:
            self._cores.prioritised = False
        if self._saved_group is not None:
            self._set_group(self._saved_group)
            self._saved_group = None
        if self._saved_threads:
            saved = self._saved_threads
            started_since = saved.get(os.getpid(), 0)  # threads born raised go back to the main's
            self._set_threads(lambda tid: saved.get(tid, started_since))
            self._saved_threads = {}

    def _set_group(self, nice: int) -> int | None:
        """Set the autogroup's nice value; the old one, or None where the kernel has none."""
        try:
            before = int(self._autogroup.read_text().split("nice")[1])
        except (OSError, IndexError, ValueError):
            return None
        self._autogroup.write_text(str(nice))
        return before

    def _set_threads(self, nice_of: Callable[[int], int]) -> dict[int, int]:
        """Set each live thread's nice value; the old values by thread id."""
        before: dict[int, int] = {}
        for entry in self._tasks.iterdir():
            tid = int(entry.name)
            try:
                before[tid] = os.getpriority(os.PRIO_PROCESS, tid)
                os.setpriority(os.PRIO_PROCESS, tid, nice_of(tid))
            except ProcessLookupError:
                continue  # the thread ended meanwhile
        return before
