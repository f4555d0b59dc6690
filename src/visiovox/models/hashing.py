"""The digest that pins a model file: sha256, or md5 where only that is published."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

_CHUNK = 8 * 1024 * 1024

Algorithm = Literal["sha256", "md5"]


@dataclass(frozen=True)
class Digest:
    """A file's expected digest: its algorithm and lowercase hex value.

    sha256 is preferred; md5 stands in only for files whose publisher lists
    nothing stronger (the Piper voice catalogue publishes md5 and size per file).
    """

    algorithm: Algorithm
    hexdigest: str

    @property
    def pin(self) -> str:
        """``<algorithm>:<hex>``, as recorded in the cache's marker."""
        return f"{self.algorithm}:{self.hexdigest}"

    def new(self) -> hashlib._Hash:
        """An empty hasher of this digest's algorithm."""
        return hashlib.new(self.algorithm)

    def of(self, path: Path) -> str:
        """The hex digest of the file at ``path`` in this algorithm."""
        return file_digest(path, self.algorithm)


def file_digest(path: Path, algorithm: Algorithm) -> str:
    """The hex ``algorithm`` digest of the file at ``path``."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """The hex sha256 of the file at ``path``."""
    return file_digest(path, "sha256")
