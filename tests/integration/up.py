"""A real ``python -m visiovox up`` for integration tests: its own port and folders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.integration.stack import create_key, free_port, wait_until
from visiovox.embedded_redis import SOCKET_NAME
from visiovox.process import die_with_parent

# How each child of `visiovox up` shows in its command line.
CHILD_MARKERS = {"redis": "redis-server", "worker": "visiovox worker", "gateway": "visiovox serve"}


class Up:
    """``visiovox up`` in ``root`` (Redis in ``root/redis``), logging to ``root/up.log``."""

    def __init__(self, root: Path, *, settings: dict[str, str] | None = None) -> None:
        self.root = root
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.redis_url = f"unix://{root / 'redis' / SOCKET_NAME}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("VISIOVOX_")}
        self.env = {
            **env,
            "VISIOVOX_GATEWAY__PORT": str(self.port),
            "VISIOVOX_REDIS__EMBEDDED_DIR": str(root / "redis"),
            "VISIOVOX_STORAGE__ROOT": str(root / "data"),
            "VISIOVOX_MODELS__CACHE_DIR": str(root / "models"),
            "VISIOVOX_JOBS__LEASE_S": "3",
            "VISIOVOX_WORKER__HEARTBEAT_S": "0.5",
            "VISIOVOX_JOBS__JANITOR_INTERVAL_S": "0.5",
            "VISIOVOX_SUPERVISOR__RESTART_DELAY_S": "0.2",
            "VISIOVOX_SUPERVISOR__RESTART_MAX_DELAY_S": "1",
            "VISIOVOX_LOG_LEVEL": "WARNING",
            **(settings or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.root / "up.log"

    def start(self, *, ready: bool = True) -> Up:
        """Start it; with ``ready``, wait until /readyz answers 200."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "visiovox", "up"],
                env=self.env,
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,  # only calls prctl: safe with threads
            )
        if ready:
            wait_until(self.ready, timeout_s=90, what=f"visiovox up /readyz\n{self.logs()}")
        return self

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, sig: int = signal.SIGTERM, *, timeout_s: float = 60) -> int:
        """Signal ``visiovox up`` and wait for it: its exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def child_pid(self, label: str) -> int | None:
        """The pid of the live child ``label`` (redis, worker or gateway), if any."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        for pid in children.read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except FileNotFoundError:
                continue
            if CHILD_MARKERS[label].encode() in cmdline:
                return int(pid)
        return None

    def kill_child(self, label: str) -> int:
        """``kill -9`` the child ``label``; its pid."""
        pid = self.child_pid(label)
        assert pid is not None, f"no {label} child\n{self.logs()}"
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: exited(pid), timeout_s=10, what=f"{label} to exit")
        return pid

    def create_key(self, owner: str) -> str:
        """An API key made with ``visiovox keys create`` beside it: no URL, the same folder."""
        return create_key(owner, env=self.env, cwd=self.root)

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def logs(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"--- {self.log_path}\n{text[-6000:]}"

    def close(self) -> None:
        """Stop it if it still runs (a test's cleanup)."""
        if self.process is not None and self.process.poll() is None:
            self.stop(timeout_s=60)


def exited(pid: int) -> bool:
    """True once ``pid`` is gone or a zombie (its command line is empty then)."""
    try:
        return not Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return True
