"""The free-cores meter, and llama.cpp following it: threads sized to what other processes
leave, so a core taken by another process does not stall every step of a generation."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from visiovox.engines import free_cores as free_cores_module
from visiovox.engines.free_cores import FreeCores, busy_seconds, usable_cores
from visiovox.engines.llm.base import ChatMessage, LLMEngine
from visiovox.engines.pool import EnginePool

TICK = os.sysconf("SC_CLK_TCK")


def _stat(path: Path, busy_ticks: int, idle_ticks: int = 1_000_000) -> None:
    """A /proc/stat first line: user nice system idle iowait irq softirq steal."""
    path.write_text(f"cpu  {busy_ticks} 0 0 {idle_ticks} 0 0 0 0 0 0\ncpu0 1 2 3 4\n")


def test_busy_seconds_counts_every_field_but_idle_and_iowait(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 20 30 5000 70 1 2 3 0 0\n")
    assert busy_seconds(stat) == pytest.approx((100 + 20 + 30 + 1 + 2 + 3) / TICK)
    assert busy_seconds(tmp_path / "missing") is None


def test_cores_taken_by_other_processes_are_not_free(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    _stat(stat, busy_ticks=1000)
    meter = FreeCores(cores=4, proc_stat=stat)
    assert meter.now() == 4  # nothing seen yet: all of them

    started = time.monotonic()
    time.sleep(0.4)
    wall = time.monotonic() - started
    _stat(stat, busy_ticks=1000 + round(2 * wall * TICK))  # two cores busy elsewhere
    meter.update()
    assert meter.now() == 2

    time.sleep(0.4)
    wall = time.monotonic() - started
    _stat(stat, busy_ticks=1000 + round(2 * wall * TICK) + round(8 * 0.4 * TICK))
    meter.update()
    assert meter.now() == 1  # never fewer than one


def test_a_prioritised_process_counts_every_core_as_free(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    _stat(stat, busy_ticks=1000)
    meter = FreeCores(cores=2, proc_stat=stat)
    time.sleep(0.3)
    _stat(stat, busy_ticks=1000 + round(2 * 0.3 * TICK))  # both cores busy elsewhere
    meter.update()
    assert meter.now() == 1

    meter.prioritised = True  # the scheduler serves this process first (worker/cpu_priority.py)
    assert meter.now() == 2
    meter.prioritised = False
    assert meter.now() == 1


def test_without_proc_stat_every_usable_core_is_free(tmp_path: Path) -> None:
    meter = FreeCores(cores=3, proc_stat=tmp_path / "missing")
    meter.update()
    assert meter.now() == 3


def test_a_cgroup_quota_caps_the_usable_cores(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    affinity = len(os.sched_getaffinity(0))
    cpu_max.write_text("max 100000\n")
    assert usable_cores(cpu_max) == affinity
    cpu_max.write_text("50000 100000\n")
    assert usable_cores(cpu_max) == 1
    assert usable_cores(tmp_path / "missing") == affinity


class _Fixed(FreeCores):
    """A meter that says what the test tells it."""

    def __init__(self, free: int) -> None:
        super().__init__(cores=8)
        self.free = free

    def now(self) -> int:
        return self.free


def test_llama_cpp_threads_follow_the_free_cores(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llama_cpp

    from visiovox.config import load_settings

    meter = _Fixed(free=2)
    monkeypatch.setattr(free_cores_module, "_shared", meter)
    settings = load_settings(models={"cache_dir": tmp_path_factory.mktemp("llm-models")})
    pool = EnginePool(settings=settings, device="cpu")
    try:
        engine = pool.get("llm.llama_cpp", LLMEngine)  # type: ignore[type-abstract]
        llama = engine._llama  # type: ignore[attr-defined]
        assert llama_cpp.llama_n_threads(llama.ctx) == 2
        messages = [ChatMessage(role="user", content="Count to five.")]

        meter.free = 1  # another process took a core
        pieces = engine.chat(messages, max_tokens=4, temperature=0.0)
        next(pieces)
        assert llama_cpp.llama_n_threads(llama.ctx) == 1
        assert llama_cpp.llama_n_threads_batch(llama.ctx) == 1
        meter.free = 2  # and gave it back: taken up between tokens
        next(pieces)
        assert llama_cpp.llama_n_threads(llama.ctx) == 2
        pieces.close()
    finally:
        pool.close()
