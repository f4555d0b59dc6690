"""The one interface every engine implements."""

from __future__ import annotations

import abc
from typing import ClassVar

from visiovox.config import Settings


class Engine(abc.ABC):
    """A model-backed capability, loaded once per worker process and reused by every job.

    Subclasses set ``name`` (``capability.implementation``) and ``models`` (the
    manifest ids of the weights they need), do their heavy imports and loading
    in ``load``, and free memory in ``close``.
    """

    name: ClassVar[str]
    models: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, settings: Settings, device: str) -> None:
        self.settings = settings
        self.device = device

    @abc.abstractmethod
    def load(self) -> None:
        """Load weights and warm up; called once before first use."""

    def close(self) -> None:  # noqa: B027 - engines without native resources need no close
        """Release what ``load`` acquired."""
