"""``visiovox up``: the embedded Redis, one worker and the gateway as supervised children.

Children run in their own sessions, so a Ctrl-C reaches only this process,
which then stops them in order: gateway, worker (it finishes its job), Redis.
A child that dies is started again after a back-off (``restart_policy.py``);
Redis comes back on the same socket with its data (append-only file), and the
gateway and the worker reconnect by themselves. A crash loop stops everything.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from visiovox.config import Settings
from visiovox.embedded_redis import EmbeddedRedis, EmbeddedRedisError
from visiovox.process import die_with_parent
from visiovox.restart_policy import RESTART_REQUESTED, RestartPolicy

log = logging.getLogger(__name__)

POLL_S = 0.1


class ChildProcess(Protocol):
    """What the supervisor needs of a child: start it, see whether it lives, stop it."""

    @property
    def pid(self) -> int | None: ...

    def start(self) -> object: ...

    def poll(self) -> int | None: ...

    def stop(self, *, timeout_s: float) -> None: ...


class VisioVoxCommand:
    """A ``python -m visiovox <args>`` child in its own session."""

    def __init__(self, *, label: str, args: Sequence[str], env: dict[str, str]) -> None:
        self._label = label
        self._command = [sys.executable, "-m", "visiovox", *args]
        self._env = env
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        self._process = subprocess.Popen(
            self._command,
            env=self._env,
            cwd=Path.cwd(),
            start_new_session=True,
            preexec_fn=die_with_parent,  # only calls prctl: safe with threads
        )

    def poll(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def stop(self, *, timeout_s: float) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s; killing it", self._label, timeout_s)
            self._process.kill()
            self._process.wait()


@dataclass(kw_only=True)
class Supervised:
    """A child, its restart bookkeeping, and when it is due to start again (if dead)."""

    label: str
    process: ChildProcess
    policy: RestartPolicy
    restart_at: float | None = None


def describe_exit(status: int) -> str:
    """``exit status 1`` or ``killed by SIGKILL``, from a ``Popen.returncode``."""
    if status >= 0:
        return f"exit status {status}"
    try:
        return f"killed by {signal.Signals(-status).name}"
    except ValueError:
        return f"killed by signal {-status}"


class Supervisor:
    """Starts the all-in-one deployment, restarts what dies, and stops it."""

    def __init__(self, settings: Settings, *, stop_timeout_s: float = 30.0) -> None:
        self._settings = settings
        self._stop_timeout_s = stop_timeout_s
        self._children: list[Supervised] = []
        self._stop_requested = False

    def run(self) -> int:
        """Run until Ctrl-C/SIGTERM (0) or a child's crash loop (1)."""

        def request_stop(signum: int, _frame: object) -> None:
            self._stop_requested = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        try:
            self._children = self._plan()
            for child in self._children:
                self._start(child)
            gateway = self._settings.gateway
            log.info("VisioVox is up on http://%s:%d (Ctrl-C stops it)", gateway.host, gateway.port)
            while not self._stop_requested:
                for child in self._children:
                    if not self._tend(child, now=time.monotonic()):
                        return 1
                time.sleep(POLL_S)
            return 0
        finally:
            self.stop()

    def _plan(self) -> list[Supervised]:
        """The children in start order: the embedded Redis (unless external), worker, gateway."""
        env = dict(os.environ)
        processes: list[tuple[str, ChildProcess]] = []
        if not self._settings.redis.url:
            redis = EmbeddedRedis(self._settings.redis.embedded_dir)
            log.info("embedded Redis on %s", redis.url)
            env["VISIOVOX_REDIS__URL"] = redis.url
            processes.append(("redis", redis))
        worker_args = ["worker", "--device", self._settings.worker.device]
        processes.append(("worker", VisioVoxCommand(label="worker", args=worker_args, env=env)))
        processes.append(("gateway", VisioVoxCommand(label="gateway", args=["serve"], env=env)))
        supervisor = self._settings.supervisor
        return [
            Supervised(label=label, process=process, policy=RestartPolicy.from_settings(supervisor))
            for label, process in processes
        ]

    def _start(self, child: Supervised) -> None:
        try:
            child.process.start()
        except EmbeddedRedisError as exc:
            log.error("%s did not start: %s", child.label, exc)  # next poll counts it dead
            return
        log.info("started %s (pid %s)", child.label, child.process.pid)

    def _tend(self, child: Supervised, *, now: float) -> bool:
        """Notice a death, or restart a child whose back-off is over; False: crash loop."""
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.restart_at = None
                self._start(child)
            return True
        status = child.process.poll()
        if status is None:
            return True
        policy = child.policy
        delay = policy.on_exit(status, now=now)
        who = f"{child.label} (pid {child.process.pid})"
        if delay is None:
            log.error(
                "%s died (%s), %d times within %.0f s: crash loop; stopping VisioVox",
                who,
                describe_exit(status),
                policy.recent_deaths,
                policy.window_s,
            )
            return False
        child.restart_at = now + delay
        if status == RESTART_REQUESTED:
            log.info("%s exited asking for a fresh start; restarting it in %.1f s", who, delay)
        else:
            log.warning(
                "%s died (%s); restarting it in %.1f s (restart %d of %d allowed in %.0f s)",
                who,
                describe_exit(status),
                delay,
                policy.recent_deaths,
                policy.max_restarts,
                policy.window_s,
            )
        return True

    def stop(self) -> None:
        """Stop the gateway, then the worker, then Redis."""
        for child in reversed(self._children):
            child.process.stop(timeout_s=self._stop_timeout_s)
        self._children.clear()
