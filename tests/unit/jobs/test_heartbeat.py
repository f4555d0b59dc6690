"""A heartbeat unloads expired idle engines and publishes the pool's memory use."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.unit.engines.pool_engines import MIB, SizedEngine
from visiovox.config import Settings
from visiovox.config_engines import EngineSettings
from visiovox.engines import registry as engine_registry
from visiovox.engines.pool import EnginePool
from visiovox.jobs.dispatch import Dispatcher
from visiovox.jobs.janitor import Janitor
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.workers import WorkerRegistry
from visiovox.worker.device import DeviceAssignment, DeviceProbe
from visiovox.worker.heartbeat import Heartbeat
from visiovox.worker.state import WorkerStatus


@pytest.fixture(autouse=True)
def test_engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, cls in [("test.a", "EngineA"), ("test.b", "EngineB")]:
        monkeypatch.setitem(engine_registry.ENGINES, name, f"tests.unit.engines.pool_engines:{cls}")
    yield


def make_heartbeat(
    domain: JobDomain, pool: EnginePool, registry: WorkerRegistry, *, interval_s: float
) -> Heartbeat:
    """A heartbeat of worker ``w1`` on CPU, with its janitor."""
    return Heartbeat(
        status=WorkerStatus(name="w1", device="cpu", queues=["vv.cpu"]),
        domain=domain,
        registry=registry,
        pool=pool,
        probe=DeviceProbe(DeviceAssignment(requested="cpu", local="cpu")),
        janitor=Janitor(
            domain=domain,
            dispatcher=Dispatcher(domain.redis),
            registry=registry,
            pipelines=["noop"],
            retention_s=60,
            interval_s=60,
        ),
        interval_s=interval_s,
    )


def test_beat_sweeps_idle_engines_and_reports_memory(settings: Settings, domain: JobDomain) -> None:
    engines = EngineSettings(
        memory_budget_mb=512, idle_ttl_s=-1, idle_ttl_overrides={"test.a": 0.0}
    )
    settings = settings.model_copy(update={"engines": engines})
    now = [1000.0]
    pool = EnginePool(settings=settings, device="cpu", clock=lambda: now[0])
    held = pool.get("test.b", SizedEngine)
    pool.get("test.a", SizedEngine)
    registry = WorkerRegistry(domain.redis, keys=domain.keys, ttl_s=5)
    heartbeat = make_heartbeat(domain, pool, registry, interval_s=5)
    pool.release("test.a")  # what a finished job does
    now[0] += 11  # past test.a's idle TTL of 10 s
    heartbeat.beat()
    [info] = registry.live()
    assert info.engine_memory == {"budget_bytes": 512 * MIB, "loaded_bytes": 40 * MIB}
    engines_out = {e["name"]: e for e in info.engines}
    assert engines_out["test.a"]["loaded"] is False and engines_out["test.b"]["in_use"] == 1
    assert held is pool.get("test.b", SizedEngine)


def test_a_beat_that_fails_does_not_stop_the_next(
    settings: Settings, domain: JobDomain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in one beat (the janitor's, once) is logged; the heartbeat thread goes on."""
    pool = EnginePool(settings=settings, device="cpu")
    registry = WorkerRegistry(domain.redis, keys=domain.keys, ttl_s=5)
    heartbeat = make_heartbeat(domain, pool, registry, interval_s=0.05)
    sweeps = []

    def sweep_once_broken(janitor: Janitor, name: str) -> None:
        sweeps.append(name)
        if len(sweeps) == 1:
            raise TypeError("a bug in the sweep")

    monkeypatch.setattr(Janitor, "sweep_if_due", sweep_once_broken)
    heartbeat.start()
    try:
        deadline = time.monotonic() + 5
        while len(sweeps) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(sweeps) >= 3 and heartbeat.is_alive()
    finally:
        heartbeat.stop()
        heartbeat.join(timeout=5)
