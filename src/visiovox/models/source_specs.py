"""The source types of a manifest entry: ``package``, ``hf`` and ``url``, told apart by ``type``.

Each source maps every file of its model (by its path in the cache folder) to
where that source finds it: parts inside installed pip packages, a file in a
Hugging Face repository at a pinned revision, or a plain HTTP(S) URL.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator


def _relative_posix(value: str) -> str:
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts or "\\" in value:
        raise ValueError(f"{value!r} must be a relative path inside its folder")
    return path.as_posix()


# A path that stays inside the folder it is relative to (no "..", not absolute).
RelativePath = Annotated[str, AfterValidator(_relative_posix)]


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

    @field_validator("files")
    @classmethod
    def _no_empty_parts(
        cls, value: dict[str, tuple[PackagePart, ...]]
    ) -> dict[str, tuple[PackagePart, ...]]:
        empty = [name for name, parts in value.items() if not parts]
        if empty:
            raise ValueError(f"no package parts for {empty}")
        return value

    @property
    def packages(self) -> tuple[str, ...]:
        """The import names of every package this source reads, in first-use order."""
        names = (part.package for parts in self.files.values() for part in parts)
        return tuple(dict.fromkeys(names))

    def describe(self) -> str:
        return "package:" + ",".join(part.replace("_", "-") for part in self.packages)


class HFSource(BaseModel):
    """Files of a Hugging Face repository at a pinned revision (a commit, or a tag)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["hf"] = "hf"
    repo: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
    revision: str = Field(min_length=1)
    repo_type: Literal["model", "dataset"] = "model"
    # Path in the model's cache folder -> path in the repository.
    files: dict[str, RelativePath]

    @property
    def owner(self) -> str:
        return self.repo.partition("/")[0]

    def describe(self) -> str:
        return f"hf:{self.repo}@{self.revision[:12]}"


class UrlSource(BaseModel):
    """Plain HTTP(S) mirrors, one URL per file; downloads resume with Range requests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["url"] = "url"
    files: dict[str, Annotated[str, Field(pattern=r"^https?://\S+$")]]

    def describe(self) -> str:
        hosts = {url.split("/")[2] for url in self.files.values()}
        return "url:" + ",".join(sorted(hosts))


ModelSource = Annotated[PackageSource | HFSource | UrlSource, Field(discriminator="type")]
