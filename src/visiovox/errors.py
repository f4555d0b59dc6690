"""Errors a pipeline raises to end a job with a typed, user-facing reason."""

from __future__ import annotations

from pydantic_core import PydanticCustomError

# Marks a params validation error that carries its own stable code (``param_error``).
PARAM_CODE_PREFIX = "code:"


class PipelineError(Exception):
    """The job cannot be done as asked; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class JobCanceled(Exception):
    """Raised by ``check_cancelled`` when the job's owner canceled it."""


def param_error(code: str, message: str) -> PydanticCustomError:
    """A params validator's error that the gateway answers as 422 ``code``, not ``invalid_params``.

    Raise it from a pydantic validator of a pipeline's params model.
    """
    return PydanticCustomError(PARAM_CODE_PREFIX + code, message)


def param_error_code(error_type: str) -> str | None:
    """The code of a ``param_error`` from its pydantic error ``type``; None for any other."""
    if error_type.startswith(PARAM_CODE_PREFIX):
        return error_type.removeprefix(PARAM_CODE_PREFIX)
    return None
