"""Files shipped with the package: the default talking-avatar portrait (see README.md)."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

AVATAR = "avatar.jpg"


def default_avatar() -> Path:
    """Where the bundled portrait lies on disk (the package is installed unzipped)."""
    with as_file(files(__name__) / AVATAR) as path:
        return Path(path)
