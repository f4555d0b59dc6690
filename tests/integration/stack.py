"""A real deployment for integration tests: embedded Redis, gateway and worker processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import redis

from visiovox.embedded_redis import EmbeddedRedis
from visiovox.process import die_with_parent

TERMINAL = {"succeeded", "failed", "canceled"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], Any], *, timeout_s: float, what: str) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}")


def create_key(owner: str, *, env: dict[str, str], cwd: Path) -> str:
    """A new API key for ``owner``, made by ``visiovox keys create`` with ``env``."""
    output = subprocess.run(
        [sys.executable, "-m", "visiovox", "keys", "create", "--owner", owner],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return output.strip().splitlines()[-1]


class Stack:
    """Processes of one test deployment; every process is real, talking over a real Redis."""

    def __init__(
        self,
        root: Path,
        *,
        settings: dict[str, str] | None = None,
        worker_settings: dict[str, str] | None = None,
        persist_redis: bool = False,
        redis: EmbeddedRedis | None = None,
    ) -> None:
        """``worker_settings``: environment for the workers only, over ``settings``.

        A worker given its own ``VISIOVOX_STORAGE__ROOT`` (with an S3 backend in
        ``settings``) shares nothing with the gateway but Redis and the bucket.
        """
        self.root = root
        self.worker_settings = worker_settings or {}
        # Persistent only for tests that restart Redis and expect everything back.
        # ``redis``: another stack's, running, shared (this stack neither starts nor stops it).
        self.owns_redis = redis is None
        self.redis = redis or EmbeddedRedis(root / "redis", persist=persist_redis)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "VISIOVOX_GATEWAY__PORT": str(self.port),
            "VISIOVOX_STORAGE__ROOT": str(root / "data"),
            "VISIOVOX_MODELS__CACHE_DIR": str(root / "models"),
            "VISIOVOX_JOBS__LEASE_S": "3",
            "VISIOVOX_WORKER__HEARTBEAT_S": "0.5",
            "VISIOVOX_JOBS__JANITOR_INTERVAL_S": "0.5",
            "VISIOVOX_LOG_LEVEL": "WARNING",
            **(settings or {}),
        }
        self.gateway: subprocess.Popen[bytes] | None = None
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.api_keys: dict[str, str] = {}

    def start(self, *, workers: int = 1, owners: tuple[str, ...] = ()) -> Stack:
        if self.owns_redis:
            self.redis.start()
        self.env["VISIOVOX_REDIS__URL"] = self.redis.url
        for owner in owners:
            self.create_key(owner)
        self.start_gateway()
        self.start_workers([f"w{index + 1}" for index in range(workers)])
        return self

    def start_gateway(self) -> None:
        self.gateway = self._spawn(["serve"], "gateway")
        wait_until(self._gateway_up, timeout_s=30, what="gateway /healthz")

    def kill_gateway(self, sig: int = signal.SIGKILL) -> None:
        """Stop the gateway with ``sig`` (SIGKILL: a crash, nothing cleaned up)."""
        assert self.gateway is not None
        self.gateway.send_signal(sig)
        self.gateway.wait(timeout=30)
        self.gateway = None

    def _spawn(
        self, args: list[str], label: str, *, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = (self.root / f"{label}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "visiovox", *args],
            env=env or self.env,
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,  # only calls prctl: safe with threads
        )

    def _gateway_up(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def start_worker(
        self, name: str, *, wait: bool = True, metrics_port: int | None = None
    ) -> subprocess.Popen[bytes]:
        args = ["worker", "--device", "cpu", "--name", name]
        if metrics_port is not None:
            args += ["--metrics-port", str(metrics_port)]
        process = self._spawn(args, f"worker-{name}", env={**self.env, **self.worker_settings})
        self.workers[name] = process
        if wait:
            wait_until(lambda: self.worker_info(name), timeout_s=60, what=f"worker {name}")
        return process

    def start_workers(self, names: list[str], **options: Any) -> None:
        """Start several workers at once (their start-ups overlap), then wait for all."""
        for name in names:
            self.start_worker(name, wait=False, **options)
        for name in names:
            wait_until(lambda n=name: self.worker_info(n), timeout_s=60, what=f"worker {name}")

    def kill_worker(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.workers.pop(name)
        process.send_signal(sig)
        process.wait(timeout=60)

    def create_key(self, owner: str) -> str:
        key = self.api_keys[owner] = create_key(owner, env=self.env, cwd=self.root)
        return key

    def ws_url(self, path: str, *, key: str | None = None) -> str:
        """The gateway's WebSocket URL of ``path``, with ``key`` as its ``api_key``."""
        url = self.base_url.replace("http", "ws", 1) + path
        return f"{url}?api_key={key}" if key else url

    def client(self, owner: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.api_keys[owner]}"} if owner else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def worker_info(
        self, name: str, states: tuple[str, ...] = ("ready", "busy")
    ) -> dict[str, Any] | None:
        """The worker's registration while it is in one of ``states``."""
        try:
            response = httpx.get(f"{self.base_url}/v1/workers", timeout=2, headers=self._any_key())
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        for info in response.json()["data"]:
            if info["name"] == name and info["state"] in states:
                return dict(info)
        return None

    def registered(self) -> set[str]:
        """Names of every registered worker, whatever its state."""
        response = httpx.get(f"{self.base_url}/v1/workers", timeout=2, headers=self._any_key())
        return {info["name"] for info in response.json()["data"]}

    def _any_key(self) -> dict[str, str]:
        for key in self.api_keys.values():
            return {"Authorization": f"Bearer {key}"}
        return {}

    def stop(self) -> None:
        for name in list(self.workers):
            process = self.workers.pop(name)
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.gateway is not None:
            self.gateway.terminate()
            try:
                self.gateway.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.gateway.kill()
        if self.owns_redis:
            self.redis.stop()

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.root.glob("*.log"))
        )


def live_assistant_url(stack: Stack, key: str | None = None) -> str:
    """``WS /v1/live/assistant`` on ``stack``, as ``key``'s owner (alice by default)."""
    return stack.ws_url("/v1/live/assistant", key=key or stack.api_keys["alice"])


def wait_for_job(
    client: httpx.Client, job_id: str, *, timeout_s: float = 60, until: set[str] = TERMINAL
) -> dict[str, Any]:
    """Poll ``GET /v1/jobs/{id}`` until its status is in ``until``."""

    def done() -> dict[str, Any] | None:
        job = client.get(f"/v1/jobs/{job_id}").json()
        return job if job["status"] in until else None

    return dict(wait_until(done, timeout_s=timeout_s, what=f"job {job_id} in {until}"))


def orphan_job_dirs(stack: Stack) -> list[str]:
    """Job folders on disk with no job record in Redis."""
    client = redis.Redis.from_url(stack.redis.url)
    jobs_root = stack.root / "data" / "jobs"
    folders = [p.name for p in jobs_root.iterdir()] if jobs_root.is_dir() else []
    return [name for name in folders if not client.exists(f"vv:job:{name}")]
