"""``visiovox up``: the embedded Redis, one worker and the gateway as child processes.

Children run in their own sessions, so a Ctrl-C reaches only this process,
which then stops them in order: gateway, worker (it finishes its job), Redis.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from visiovox.config import Settings
from visiovox.embedded_redis import EmbeddedRedis
from visiovox.process import die_with_parent

log = logging.getLogger(__name__)


class Supervisor:
    """Starts and stops the all-in-one deployment."""

    def __init__(self, settings: Settings, *, stop_timeout_s: float = 30.0) -> None:
        self._settings = settings
        self._stop_timeout_s = stop_timeout_s
        self._redis: EmbeddedRedis | None = None
        self._children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def run(self) -> int:
        """Run until Ctrl-C/SIGTERM or a child dies; returns an exit code."""
        stop_requested = False

        def request_stop(signum: int, _frame: object) -> None:
            nonlocal stop_requested
            stop_requested = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        try:
            env = self._start_redis()
            self._spawn("worker", ["worker", "--device", self._settings.worker.device], env)
            self._spawn("gateway", ["serve"], env)
            gateway = self._settings.gateway
            log.info("VisioVox is up on http://%s:%d (Ctrl-C stops it)", gateway.host, gateway.port)
            while not stop_requested:
                for label, child in self._children:
                    if child.poll() is not None:
                        log.error("%s exited with %s; stopping", label, child.returncode)
                        return 1
                time.sleep(0.2)
            return 0
        finally:
            self.stop()

    def _start_redis(self) -> dict[str, str]:
        env = dict(os.environ)
        if self._settings.redis.url:
            return env
        self._redis = EmbeddedRedis(self._settings.redis.embedded_dir).start()
        log.info("embedded Redis on %s", self._redis.url)
        env["VISIOVOX_REDIS__URL"] = self._redis.url
        return env

    def _spawn(self, label: str, args: Sequence[str], env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "visiovox", *args]
        child = subprocess.Popen(
            command,
            env=env,
            cwd=Path.cwd(),
            start_new_session=True,
            preexec_fn=die_with_parent,  # only calls prctl: safe with threads
        )
        self._children.append((label, child))

    def stop(self) -> None:
        """Stop the gateway, then the worker, then Redis."""
        for label, child in reversed(self._children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=self._stop_timeout_s)
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop in %.0fs; killing it", label, self._stop_timeout_s)
                    child.kill()
                    child.wait()
        self._children.clear()
        if self._redis is not None:
            self._redis.stop()
            self._redis = None
