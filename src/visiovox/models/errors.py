"""Errors about models: a bad manifest, an unknown id, weights that cannot be made ready."""

from __future__ import annotations

from visiovox.errors import PipelineError


class ManifestError(ValueError):
    """The model manifest is missing or does not validate."""


class UnknownModel(KeyError):
    """No manifest entry has that id."""


class ModelUnavailable(PipelineError):
    """A model's weights cannot be made ready; a job needing it fails with ``model_unavailable``."""

    def __init__(self, model_id: str, reason: str) -> None:
        super().__init__("model_unavailable", f"model {model_id} is not available: {reason}")
        self.model_id = model_id
        self.reason = reason
