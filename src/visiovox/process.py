"""Child processes that do not outlive their parent."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn`` for ``Popen``: on Linux, SIGTERM this child when its parent dies.

    Without it a ``kill -9`` of ``visiovox up`` (or of a test run) would leave
    the embedded Redis and the workers running with nobody to stop them.
    """
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
