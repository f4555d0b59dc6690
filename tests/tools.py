"""Tests that need a program the machine may lack: skip on a laptop, fail under CI.

``scripts/test`` installs every such program, so under ``CI=true`` a missing one
is a broken set-up, reported as a failure with what to install, never a skip.
"""

from __future__ import annotations

import os

import pytest


def missing_tool(message: str) -> None:
    """Skip the test, or fail it when ``CI`` is true; ``message`` says what to install."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message}; CI must have it (scripts/test installs it)", pytrace=False)
    pytest.skip(message)
