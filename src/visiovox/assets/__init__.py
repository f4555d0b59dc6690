"""Files shipped with the package: the talking-avatar portrait, HeadAudio's model (README.md)."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

AVATAR = "avatar.jpg"
HEADAUDIO_MODEL = "headaudio-model-en-mixed.bin"


def default_avatar() -> Path:
    """Where the bundled portrait lies on disk (the package is installed unzipped)."""
    with as_file(files(__name__) / AVATAR) as path:
        return Path(path)


def headaudio_model() -> Path:
    """Where HeadAudio's viseme prototypes lie on disk (``engines/visemes/headaudio.py``)."""
    with as_file(files(__name__) / HEADAUDIO_MODEL) as path:
        return Path(path)
