"""The one interface every engine implements."""

from __future__ import annotations

import abc
from typing import ClassVar

from visiovox.config import Settings
from visiovox.models.errors import UnknownModel
from visiovox.models.manifest import get_manifest
from visiovox.models.transfer import ProgressCallback


class Engine(abc.ABC):
    """A model-backed capability, loaded once per worker process and reused by every job.

    Subclasses set ``name`` (``capability.implementation``) and ``models`` (the
    manifest ids of the weights they need), do their heavy imports and loading
    in ``load``, and free memory in ``close``. The engine pool makes every
    model of ``required_models`` ready (fetching it if need be) before ``load``.
    """

    name: ClassVar[str]
    models: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, settings: Settings, device: str) -> None:
        self.settings = settings
        self.device = device
        # The current holder's download reporter, set by the engine pool on each
        # ``get``; an engine fetching a model after ``load`` (a voice on first
        # use) hands it to ``prepare_model`` so the job shows the download.
        self.download_progress: ProgressCallback | None = None

    def required_models(self) -> tuple[str, ...]:
        """Manifest ids this engine loads with the current settings (default: ``models``)."""
        return self.models

    def estimated_bytes(self) -> int:
        """Memory the loaded engine takes, estimated as the size of its model files."""
        manifest = get_manifest(self.settings)
        total = 0
        for model_id in self.required_models():
            try:
                total += manifest.get(model_id).size
            except UnknownModel:
                continue  # preparing it fails with a clear error first
        return total

    @abc.abstractmethod
    def load(self) -> None:
        """Load weights and warm up; called once before first use."""

    def close(self) -> None:  # noqa: B027 - engines without native resources need no close
        """Release what ``load`` acquired."""
