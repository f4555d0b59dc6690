"""Errors a pipeline raises to end a job with a typed, user-facing reason."""

from __future__ import annotations


class PipelineError(Exception):
    """The job cannot be done as asked; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class JobCanceled(Exception):
    """Raised by ``check_cancelled`` when the job's owner canceled it."""
