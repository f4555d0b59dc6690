"""The interface of face swap engines: put one face onto another in a picture.

Work that depends on the source face alone (its identity vector, its
triangulation, its colour statistics) is done once by ``prepare``; ``apply``
then puts the prepared face onto each target face, which is what a video
calls once per frame.
"""

from __future__ import annotations

import abc
from typing import Literal

from visiovox.engines.base import Engine
from visiovox.engines.face.types import Face, Image

# seamless: Poisson blending (best for stills); feather: a soft-edged alpha blend (fast).
BlendMode = Literal["seamless", "feather"]


class PreparedSource(abc.ABC):  # noqa: B024 - a marker base: each engine keeps its own fields
    """What an engine keeps of a source face between swaps."""


class FaceSwapEngine(Engine):
    """Replaces a located face of a target picture with a located face of a source."""

    @abc.abstractmethod
    def prepare(self, source: Image, source_face: Face) -> PreparedSource:
        """The source-side work of a swap, done once per source face."""

    @abc.abstractmethod
    def apply(
        self,
        prepared: PreparedSource,
        *,
        target: Image,
        target_face: Face,
        blend: float = 1.0,
        mode: BlendMode = "seamless",
    ) -> Image:
        """``target`` with ``target_face`` replaced by the prepared face."""

    def swap(
        self,
        *,
        source: Image,
        source_face: Face,
        target: Image,
        target_face: Face,
        blend: float = 1.0,
        mode: BlendMode = "seamless",
    ) -> Image:
        """``target`` with ``target_face`` replaced by ``source_face``; ``blend`` 0 keeps it."""
        return self.apply(
            self.prepare(source, source_face),
            target=target,
            target_face=target_face,
            blend=blend,
            mode=mode,
        )
