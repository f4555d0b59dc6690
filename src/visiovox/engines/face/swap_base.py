"""The interface of face swap engines: put one face onto another in a picture."""

from __future__ import annotations

import abc

from visiovox.engines.base import Engine
from visiovox.engines.face.types import Face, Image


class FaceSwapEngine(Engine):
    """Replaces a located face of a target picture with a located face of a source."""

    @abc.abstractmethod
    def swap(
        self,
        *,
        source: Image,
        source_face: Face,
        target: Image,
        target_face: Face,
        blend: float = 1.0,
    ) -> Image:
        """``target`` with ``target_face`` replaced by ``source_face``; ``blend`` 0 keeps it."""
