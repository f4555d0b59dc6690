"""What ``visiovox models list`` and ``GET /v1/models`` show: each manifest entry and its state.

Light on purpose (the gateway imports it): reading the manifest and the
cache's verified stamps, no hashing and no network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from visiovox.config import Settings
from visiovox.models.cache import is_installed
from visiovox.models.manifest import ModelEntry, get_manifest


@dataclass(frozen=True)
class ModelRow:
    """One model of the manifest, with whether this machine's cache holds it verified."""

    id: str
    task: str
    engine: str
    size: int
    license: str
    non_commercial: bool
    installed: bool
    sources: tuple[str, ...]
    owned_by: str
    description: str

    @classmethod
    def of(cls, entry: ModelEntry, cache_dir: Path) -> ModelRow:
        return cls(
            id=entry.id,
            task=entry.task,
            engine=entry.engine,
            size=entry.size,
            license=entry.license,
            non_commercial=entry.non_commercial,
            installed=is_installed(entry, cache_dir),
            sources=tuple(source.describe() for source in entry.sources),
            owned_by=entry.owner,
            description=entry.description,
        )


def model_rows(settings: Settings) -> list[ModelRow]:
    """Every manifest entry in manifest order."""
    cache_dir = settings.models.cache_dir
    return [ModelRow.of(entry, cache_dir) for entry in get_manifest(settings).models]


def human_size(size: int) -> str:
    """``63.2 MB``-style sizes (decimal units, as model hubs show them)."""
    if size < 1000:
        return f"{size} B"
    value = size / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
