"""The engine pool's limits: memory budget with LRU unloads, idle TTLs, model fetch on first use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.engines import pool_engines
from tests.unit.engines.pool_engines import EVENTS, MIB, SizedEngine
from tests.unit.models.conftest import (  # the download tests' helpers, env switches off
    entry_dict,
    no_offline_switches,  # noqa: F401  (an autouse fixture: imported, it applies here too)
    payload,
    settings_for,
    write_manifest,
)
from tests.unit.models.loopback import Mirror, serve
from visiovox.config import Settings, load_settings
from visiovox.engines import registry
from visiovox.engines.pool import EnginePool
from visiovox.models.errors import ModelUnavailable
from visiovox.models.transfer import TransferProgress


@pytest.fixture(autouse=True)
def test_engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, cls in [
        ("test.a", "EngineA"),
        ("test.b", "EngineB"),
        ("test.c", "EngineC"),
        ("test.large", "LargeEngine"),
        ("test.remote", "RemoteModelEngine"),
    ]:
        monkeypatch.setitem(registry.ENGINES, name, f"tests.unit.engines.pool_engines:{cls}")
    EVENTS.clear()
    yield


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pool_with(
    *,
    budget_mb: int = 0,
    ttl: float = -1,
    overrides: dict[str, float] | None = None,
    clock: Clock | None = None,
) -> EnginePool:
    settings = load_settings(
        engines={
            "memory_budget_mb": budget_mb,
            "idle_ttl_s": ttl,
            "idle_ttl_overrides": overrides or {},
        }
    )
    return EnginePool(settings=settings, device="cpu", clock=clock or Clock())


def use(pool: EnginePool, name: str) -> None:
    pool.get(name, SizedEngine)
    pool.release(name)


def by_name(pool: EnginePool) -> dict[str, dict[str, object]]:
    return {stats.name: stats.to_json() for stats in pool.stats()}


def test_over_budget_unloads_the_least_recently_used_idle_engine() -> None:
    clock = Clock()
    pool = pool_with(budget_mb=100, clock=clock)
    for name in ("test.a", "test.b", "test.a"):  # a is now more recent than b
        use(pool, name)
        clock.now += 1
    use(pool, "test.c")  # 3 x 40 MiB > 100 MiB: b goes
    assert EVENTS == ["load test.a", "load test.b", "close test.b", "load test.c"]
    stats = by_name(pool)
    assert stats["test.b"]["loaded"] is False
    assert stats["test.b"]["last_unload_reason"] == "memory budget: made room for test.c"
    assert stats["test.a"]["loaded"] is True and stats["test.a"]["load_count"] == 1
    assert pool.memory() == {"budget_bytes": 100 * MIB, "loaded_bytes": 80 * MIB}


def test_a_large_engine_evicts_as_many_as_needed() -> None:
    clock = Clock()
    pool = pool_with(budget_mb=100, clock=clock)
    use(pool, "test.a")
    clock.now += 1
    use(pool, "test.b")
    use(pool, "test.large")
    assert [e for e in EVENTS if e.startswith("close")] == ["close test.a", "close test.b"]
    assert pool.memory()["loaded_bytes"] == 70 * MIB


def test_engines_in_use_are_never_unloaded(caplog: pytest.LogCaptureFixture) -> None:
    pool = pool_with(budget_mb=50)
    pool.get("test.a", SizedEngine)  # held, not released
    use(pool, "test.b")
    assert "close test.a" not in EVENTS
    assert "all in use" in caplog.text
    assert by_name(pool)["test.a"]["in_use"] == 1


def test_ttl_zero_unloads_right_after_use() -> None:
    pool = pool_with(ttl=0)
    engine = pool.get("test.a", SizedEngine)
    assert by_name(pool)["test.a"]["loaded"] is True
    pool.release("test.a")
    stats = by_name(pool)["test.a"]
    assert stats["loaded"] is False and stats["unload_count"] == 1 and stats["idle_ttl_s"] == 0
    assert stats["last_unload_reason"] == "idle TTL 0: unloaded after use"
    assert pool.get("test.a", SizedEngine) is not engine  # loaded again on next use
    assert EVENTS == ["load test.a", "close test.a", "load test.a"]


def test_idle_ttl_unloads_on_sweep_once_expired_per_engine_override() -> None:
    clock = Clock()
    pool = pool_with(ttl=-1, overrides={"test.a": 30}, clock=clock)
    use(pool, "test.a")
    use(pool, "test.b")
    clock.now += 29
    assert pool.sweep() == []
    clock.now += 2
    assert pool.sweep() == ["test.a"]  # test.b has TTL -1: kept forever
    stats = by_name(pool)
    assert stats["test.a"]["loaded"] is False and stats["test.b"]["loaded"] is True
    assert stats["test.a"]["idle_ttl_s"] == 30 and stats["test.b"]["idle_ttl_s"] == -1


def test_a_held_engine_outlives_its_ttl() -> None:
    clock = Clock()
    pool = pool_with(ttl=5, clock=clock)
    pool.get("test.a", SizedEngine)
    clock.now += 60
    assert pool.sweep() == []
    pool.release("test.a")
    clock.now += 6
    assert pool.sweep() == ["test.a"]


def remote_settings(tmp_path: Path, url: str, body: bytes, **models: object) -> Settings:
    source = {"type": "url", "files": {"w.bin": f"{url}/files/w.bin"}}
    manifest = write_manifest(
        tmp_path, [entry_dict(model_id="tiny", files={"w.bin": body}, sources=[source])]
    )
    return settings_for(tmp_path, manifest=manifest, **models)


def test_first_use_fetches_the_model_and_reports_progress(tmp_path: Path) -> None:
    body = payload(2 * 1024 * 1024)
    with serve(Mirror(files={"/files/w.bin": body})) as mirror:
        settings = remote_settings(tmp_path, mirror.url, body)
        pool = EnginePool(settings=settings, device="cpu")
        seen: list[TransferProgress] = []
        pool.get("test.remote", SizedEngine, progress=seen.append)
    assert seen[-1].verified and seen[-1].model_id == "tiny"
    assert (tmp_path / "cache" / "tiny" / "w.bin").read_bytes() == body
    assert by_name(pool)["test.remote"]["estimated_bytes"] == len(body)


def test_offline_first_use_fails_with_the_pull_command(tmp_path: Path) -> None:
    body = payload(1000)
    with serve(Mirror(files={"/files/w.bin": body})) as mirror:
        settings = remote_settings(tmp_path, mirror.url, body, offline=True)
        pool = EnginePool(settings=settings, device="cpu")
        with pytest.raises(ModelUnavailable, match="visiovox models pull tiny"):
            pool.get("test.remote", SizedEngine)
    assert by_name(pool)["test.remote"]["loaded"] is False
    assert pool_engines.EVENTS == []
