"""The model manifest (``configs/models.yaml``): what each model is made of and where it comes from.

Each entry lists the files that make the model, with sha256 and size, its
licence, and its sources in order of preference (``source_specs``): installed
pip packages, a Hugging Face repository at a pinned revision, URL mirrors.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from visiovox.config import Settings
from visiovox.models.errors import ManifestError, UnknownModel
from visiovox.models.hashing import Digest
from visiovox.models.source_specs import (
    HFSource,
    ModelSource,
    PackagePart,
    PackageSource,
    RelativePath,
    UrlSource,
)

__all__ = [
    "HFSource",
    "Manifest",
    "ModelEntry",
    "ModelFile",
    "ModelSource",
    "PackagePart",
    "PackageSource",
    "UrlSource",
    "get_manifest",
    "load_manifest",
    "resolve_manifest_path",
]

# src/visiovox/models/manifest.py -> the checkout's root, for running outside it.
_SOURCE_ROOT = Path(__file__).resolve().parents[3]


class ModelFile(BaseModel):
    """One file of a model, at ``path`` inside the model's cache folder.

    Pinned by ``sha256``; a file whose publisher lists only md5 (the Piper
    voice catalogue's ``voices.json``) gives ``md5`` instead, and the cache
    checks that with the size. Where both are given, sha256 is the one checked.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: RelativePath
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    md5: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    size: int = Field(gt=0)

    @model_validator(mode="after")
    def _pinned(self) -> ModelFile:
        if self.sha256 is None and self.md5 is None:
            raise ValueError(f"file {self.path} needs a sha256 (or, failing that, an md5)")
        return self

    @property
    def digest(self) -> Digest:
        """The digest the file is checked against: its sha256, else its md5."""
        if self.sha256 is not None:
            return Digest("sha256", self.sha256)
        assert self.md5 is not None  # the validator requires one of the two
        return Digest("md5", self.md5)


class ModelEntry(BaseModel):
    """One model: its id, what it is for, its licence, its files and sources."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    task: str
    engine: str
    license: str
    # The licence forbids commercial use (e.g. InsightFace's pretrained models).
    non_commercial: bool = False
    description: str = ""
    # A TTS voice's short name in requests (``joe``); the id names it too.
    voice: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    # A TTS voice's language as Piper names it (``pt_BR``): ``language`` picks a voice by it.
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    files: tuple[ModelFile, ...] = Field(min_length=1)
    sources: tuple[ModelSource, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _sources_cover_files(self) -> ModelEntry:
        names = [item.path for item in self.files]
        if len(set(names)) != len(names):
            raise ValueError(f"model {self.id} lists a file twice")
        for source in self.sources:
            if set(source.files) != set(names):
                raise ValueError(
                    f"model {self.id}: a {source.type} source must give parts for exactly {names}"
                )
        return self

    @property
    def size(self) -> int:
        """Bytes of all the model's files."""
        return sum(item.size for item in self.files)

    @property
    def downloadable(self) -> bool:
        """Whether a source needs the network (``hf`` or ``url``)."""
        return any(not isinstance(source, PackageSource) for source in self.sources)

    @property
    def owner(self) -> str:
        """Who publishes it: the first Hugging Face repository's owner, else ``visiovox``."""
        for source in self.sources:
            if isinstance(source, HFSource):
                return source.owner
        return "visiovox"

    def file(self, path: str) -> ModelFile:
        """The file listed at ``path``."""
        for item in self.files:
            if item.path == path:
                return item
        raise KeyError(f"model {self.id} has no file {path}")


class Manifest(BaseModel):
    """Every model a deployment knows, by id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    models: tuple[ModelEntry, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> Manifest:
        ids = [entry.id for entry in self.models]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"model ids listed more than once: {duplicates}")
        return self

    def get(self, model_id: str) -> ModelEntry:
        """The entry ``model_id``; ``UnknownModel`` if there is none."""
        for entry in self.models:
            if entry.id == model_id:
                return entry
        raise UnknownModel(model_id)

    def for_engine(self, engine: str) -> list[ModelEntry]:
        """The entries an engine can run."""
        return [entry for entry in self.models if entry.engine == engine]

    def voices(self, engine: str) -> dict[str, str]:
        """Voice name -> model id of ``engine``'s entries: each id, and its short ``voice`` name."""
        names: dict[str, str] = {}
        for entry in self.for_engine(engine):
            names[entry.id] = entry.id
            if entry.voice:
                names[entry.voice] = entry.id
        return names


def resolve_manifest_path(configured: Path) -> Path:
    """``configured`` if it exists, else (when relative) the same path in the source checkout."""
    candidates = [configured]
    if not configured.is_absolute():
        candidates.append(_SOURCE_ROOT / configured)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise ManifestError(f"model manifest not found (tried {tried}); set models.manifest")


def load_manifest(path: Path) -> Manifest:
    """Read and validate the manifest at ``path``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Manifest.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ManifestError(f"invalid model manifest {path}: {exc}") from exc


def get_manifest(settings: Settings) -> Manifest:
    """The manifest ``settings`` names, read again only when the file changes."""
    path = resolve_manifest_path(settings.models.manifest).resolve()
    return _load_cached(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load_cached(path: Path, mtime_ns: int) -> Manifest:
    # mtime_ns is part of the cache key only: an edited file is read again.
    return load_manifest(path)
