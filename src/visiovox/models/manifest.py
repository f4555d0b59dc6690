"""The model manifest (``configs/models.yaml``): what each model is made of and where it comes from.

Each entry lists the files that make the model, with sha256 and size, and its
sources in order of preference. A ``package`` source takes the files from
installed pip packages (each file from one or more parts joined in order).
Other source types (Hugging Face, URLs) plug in as further members of
``ModelSource``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from visiovox.config import Settings
from visiovox.models.errors import ManifestError, UnknownModel

# src/visiovox/models/manifest.py -> the checkout's root, for running outside it.
_SOURCE_ROOT = Path(__file__).resolve().parents[3]


def _relative_posix(value: str) -> str:
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts or "\\" in value:
        raise ValueError(f"{value!r} must be a relative path inside its folder")
    return path.as_posix()


# A path that stays inside the folder it is relative to (no "..", not absolute).
RelativePath = Annotated[str, AfterValidator(_relative_posix)]


class ModelFile(BaseModel):
    """One file of a model, at ``path`` inside the model's cache folder."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: RelativePath
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(gt=0)


class PackagePart(BaseModel):
    """A file inside an installed pip package: ``package`` is its import name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    package: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    path: RelativePath

    @property
    def pip_name(self) -> str:
        """The distribution to install (pip treats ``_`` and ``-`` alike)."""
        return self.package.replace("_", "-")

    @classmethod
    def parse(cls, value: object) -> object:
        """Accept ``"package/path/in/package"`` as shorthand."""
        if isinstance(value, str):
            package, _, path = value.partition("/")
            return {"package": package, "path": path}
        return value


class PackageSource(BaseModel):
    """Files shipped in installed pip packages; each file is its parts joined in order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["package"] = "package"
    files: dict[str, tuple[PackagePart, ...]]

    @field_validator("files", mode="before")
    @classmethod
    def _parse_parts(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        return {
            name: [
                PackagePart.parse(part) for part in (parts if isinstance(parts, list) else [parts])
            ]
            for name, parts in value.items()
        }

    @property
    def packages(self) -> tuple[str, ...]:
        """The import names of every package this source reads, in first-use order."""
        names = (part.package for parts in self.files.values() for part in parts)
        return tuple(dict.fromkeys(names))


# One member today; ``hf`` and ``url`` sources join this union, told apart by ``type``.
ModelSource = Annotated[PackageSource, Field(discriminator="type")]


class ModelEntry(BaseModel):
    """One model: its id, what it is for, its licence, its files and sources."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    task: str
    engine: str
    license: str
    description: str = ""
    files: tuple[ModelFile, ...] = Field(min_length=1)
    sources: tuple[ModelSource, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _sources_cover_files(self) -> ModelEntry:
        names = [item.path for item in self.files]
        if len(set(names)) != len(names):
            raise ValueError(f"model {self.id} lists a file twice")
        for source in self.sources:
            if set(source.files) != set(names) or any(not parts for parts in source.files.values()):
                raise ValueError(
                    f"model {self.id}: a {source.type} source must give parts for exactly {names}"
                )
        return self

    @property
    def size(self) -> int:
        """Bytes of all the model's files."""
        return sum(item.size for item in self.files)

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
