"""The worker's memory ceiling: its default share of RAM, an explicit value, the check."""

from __future__ import annotations

from pathlib import Path

import pytest

from visiovox.config import WorkerSettings
from visiovox.errors import PipelineError
from visiovox.worker import memory
from visiovox.worker.memory import MIB, MemoryCeiling, release_memory, rss_bytes


def test_the_default_ceiling_is_half_the_usable_memory() -> None:
    ceiling = MemoryCeiling.from_settings(WorkerSettings())
    assert ceiling.limit_bytes == int(memory.usable_memory_bytes() * 0.5)
    assert MemoryCeiling.from_settings(WorkerSettings(max_rss_mb=512)).limit_bytes == 512 * MIB


def test_a_container_limit_below_the_ram_counts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    limit = tmp_path / "memory.max"
    monkeypatch.setattr(memory, "_CGROUP_LIMIT", limit)
    limit.write_text(f"{256 * MIB}\n")
    assert memory.usable_memory_bytes() == 256 * MIB
    limit.write_text("max\n")
    assert memory.usable_memory_bytes() > 256 * MIB


def test_the_check_trips_once_the_process_is_over() -> None:
    roomy = MemoryCeiling(limit_bytes=rss_bytes() + 512 * MIB)
    roomy.check()
    assert not roomy.tripped and not roomy.over()
    tight = MemoryCeiling(limit_bytes=MIB)
    with pytest.raises(PipelineError) as caught:
        tight.check()
    assert caught.value.code == "resource_exhausted"
    assert tight.tripped and tight.over()


def test_release_memory_gives_freed_heap_back() -> None:
    before = rss_bytes()
    # 200 MB of small blocks on the heap; one in 16 stays, so free() cannot shrink
    # the heap from its top and keeps the rest (measured: +199 MB without a trim).
    blocks = [bytearray(4096) for _ in range(50_000)]
    kept = blocks[::16]
    del blocks
    release_memory()
    assert rss_bytes() < before + 64 * MIB
    assert len(kept) == 3_125
