"""Graceful drain: the first SIGTERM finishes the current job, a second one stops at once.

Celery's warm shutdown (SIGTERM, or a first Ctrl-C) already stops consuming
and lets the running task finish, but it ignores further SIGTERMs and has no
time limit. This adds both. Every SIGTERM reaches Celery's handler, which sends
``worker_shutting_down``; our receiver runs inside that signal handler, so it
only writes a byte to a pipe (async-signal-safe, takes no lock that the
interrupted thread could hold). A watcher thread reads the pipe:

- first signal: state ``draining`` (published at once, so no scheduler places
  anything here any more) and a timer of ``drain_timeout_s``;
- second signal, a cold shutdown, or the timer: stop now. The running job's
  lease is given up and the job re-dispatched to its shared queue, the
  registration removed and the private queue handed back, then the process
  exits with ``EXIT_STOPPED`` without waiting for the job.

A drain that finishes in time ends through Celery's own shutdown, after which
``run_worker`` deregisters and hands back the private queue.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from visiovox.worker.state import WorkerStatus

log = logging.getLogger(__name__)

# 128 + SIGTERM, as a process killed by SIGTERM reports.
EXIT_STOPPED = 143
_WARM, _COLD = b"w", b"c"


class Drain:
    """Turns shutdown signals into a drain with a deadline."""

    def __init__(
        self,
        *,
        status: WorkerStatus,
        announce: Callable[[], None],
        stop_now: Callable[[], None],
        timeout_s: float,
        exit_process: Callable[[int], Any] = os._exit,
    ) -> None:
        self._status = status
        self._announce = announce
        self._stop_now = stop_now
        self._timeout_s = timeout_s
        self._exit = exit_process
        self._read_fd, self._write_fd = os.pipe()
        self._signals = 0
        self._timer: threading.Timer | None = None
        self._thread = threading.Thread(target=self._watch, name="visiovox-drain", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def on_shutting_down(self, how: str = "Warm", **_: Any) -> None:
        """Receiver of Celery's ``worker_shutting_down``: runs inside the signal handler."""
        os.write(self._write_fd, _COLD if how == "Cold" else _WARM)

    def _watch(self) -> None:
        try:
            while signal := os.read(self._read_fd, 1):
                self._signals += 1
                if signal == _WARM and self._signals == 1:
                    self._begin()
                else:
                    self._stop("a second shutdown signal" if signal == _WARM else "a cold shutdown")
        finally:
            # Closed here, after the last read, so the number is never reused under it.
            os.close(self._read_fd)

    def _begin(self) -> None:
        self._status.start_draining()
        job = self._status.current_job
        log.warning(
            "draining: %s, no new jobs; stopping in %.0fs at the latest",
            f"finishing job {job}" if job else "idle",
            self._timeout_s,
        )
        try:
            self._announce()
        except Exception as exc:  # Redis away: the heartbeat publishes it later
            log.warning("could not publish the draining state: %s", exc)
        self._timer = threading.Timer(self._timeout_s, self._stop, args=("the drain timeout",))
        self._timer.daemon = True
        self._timer.start()

    def _stop(self, reason: str) -> None:
        log.warning("stopping now (%s)", reason)
        try:
            self._stop_now()
        except Exception as exc:  # stop anyway; the lease and the janitor recover the job
            log.error("clean-up before stopping failed: %s", exc)
        self._exit(EXIT_STOPPED)

    def close(self) -> None:
        """Stop the watcher (end of file on its pipe) and any pending deadline."""
        if self._timer is not None:
            self._timer.cancel()
        with contextlib.suppress(OSError):
            os.close(self._write_fd)
        if self._thread.is_alive():
            self._thread.join(timeout=1)
