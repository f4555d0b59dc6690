"""A full disk under the storage root: how to recognise it and how much room is left.

The gateway refuses uploads while free space is under ``storage.min_free_bytes``
and answers 507 when a write still meets a full disk; the worker fails a job
whose outputs meet one with ``storage_full``. Both remove what was written.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

# No space left on the device, or the owner's quota spent: the same to a client.
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc``, or an error it was raised from, is ENOSPC or EDQUOT.

    The chain counts because decoders and encoders wrap the ``OSError`` in
    their own error (a ``MediaError`` raised from PyAV's).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "errno", None) in _DISK_FULL:
            return True
        current = current.__cause__ or current.__context__
    return False


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged process may still write on the filesystem holding ``path``.

    ``path`` may not exist yet (a fresh storage root): its nearest existing
    parent is on the same filesystem.
    """
    existing = path.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return shutil.disk_usage(existing).free
