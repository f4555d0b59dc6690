"""The exit codes of ``visiovox jobs``, for scripts, and the errors that map to them.

0 the job succeeded (or the command did what it was asked), 1 the job failed,
2 usage (a bad option, or the API refused the request with a 4xx other than
401/403), 3 the job was canceled, 4 the service could not be reached, answered
5xx, or refused the key (401/403), 5 ``--wait`` timed out.
"""

from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    """What ``visiovox jobs`` exits with."""

    SUCCEEDED = 0
    FAILED = 1
    USAGE = 2
    CANCELED = 3
    UNREACHABLE = 4
    TIMED_OUT = 5

    @classmethod
    def for_status(cls, status: str) -> Exit:
        """The exit code of a job that ended with ``status``."""
        return {"succeeded": cls.SUCCEEDED, "canceled": cls.CANCELED}.get(status, cls.FAILED)


class CliFailure(Exception):
    """A command cannot go on: ``code`` and ``message`` are printed, ``exit`` is returned."""

    def __init__(self, exit: Exit, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.exit = exit
        self.code = code
        self.message = message


def for_api_error(status: int, code: str, message: str) -> CliFailure:
    """The failure for an API error answer (its status, code and message)."""
    if status in (401, 403) or status >= 500:
        return CliFailure(Exit.UNREACHABLE, code, message)
    return CliFailure(Exit.USAGE, code, message)
