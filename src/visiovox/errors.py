"""The project's coded errors: a stable ``code`` for machines, a ``message`` for people.

``CodedError`` is the one root: pipeline, media and model errors subclass it,
and the worker's runner catches it once, so any coded error that escapes a
pipeline ends the job with its own code (never ``internal_error``).
"""

from __future__ import annotations

from pydantic_core import PydanticCustomError

# Marks a params validation error that carries its own stable code (``param_error``).
PARAM_CODE_PREFIX = "code:"


class CodedError(Exception):
    """A failure with a stable ``code`` and a ``message`` for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class PipelineError(CodedError):
    """The job cannot be done as asked (raised by pipelines and the engines they drive)."""


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
