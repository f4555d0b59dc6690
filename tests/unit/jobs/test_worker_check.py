"""``visiovox worker --check`` (the containers' healthcheck) against a real registry."""

from __future__ import annotations

import os
import subprocess
import sys

from visiovox.config import Settings
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.workers import WorkerInfo, WorkerRegistry, WorkerState


def check(settings: Settings, *args: str) -> int:
    env = {
        **os.environ,
        "VISIOVOX_REDIS__URL": str(settings.redis.url),
        "VISIOVOX_REDIS__PREFIX": settings.redis.prefix,
    }
    command = [sys.executable, "-m", "visiovox", "worker", "--check", *args]
    return subprocess.run(command, env=env, capture_output=True, timeout=60).returncode


def test_check_passes_only_for_a_live_worker_of_that_name(
    settings: Settings, domain: JobDomain
) -> None:
    assert check(settings, "--device", "cuda:1") == 1
    registry = WorkerRegistry(domain.redis, keys=domain.keys, ttl_s=30)
    info = WorkerInfo(name="gpu-host/cuda:1", host="h", pid=1, device="cuda:1")
    registry.publish(info.model_copy(update={"state": WorkerState.READY}))
    assert check(settings, "--device", "cuda:1", "--name", "gpu-host/cuda:1") == 0
    registry.publish(info.model_copy(update={"state": WorkerState.DEFUNCT}))
    assert check(settings, "--device", "cuda:1", "--name", "gpu-host/cuda:1") == 1
    assert check(settings, "--device", "tpu:0") == 2  # a usage error, not a health verdict
