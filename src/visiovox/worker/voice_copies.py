"""A worker's local copies of voices kept in a bucket, dropped once the voice is deleted.

With S3 storage a worker fetches a voice's files into ``<storage.root>/voices/<id>/``
on first use (``jobs/voices.py``) and keeps them for its next jobs. Deleting a voice
removes its objects and the gateway's copy, not the workers' copies: each worker
prunes its own from its heartbeat, at most once per ``interval_s``. A copy goes when
its voice record is gone and its folder has not changed for ``settle_s`` (a gateway
sharing the root writes an upload there before the voice's record exists).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import redis

from visiovox.config import Settings
from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.voices import voice_files
from visiovox.storage.choose import open_backend

log = logging.getLogger(__name__)

# Seconds between two prunes, and the age a folder must reach before it may go.
PRUNE_EVERY_S = 60.0
SETTLE_S = 600.0


class VoiceCopies:
    """Prunes the local copies of deleted voices under ``root``."""

    def __init__(
        self,
        *,
        root: Path,
        client: redis.Redis,
        keys: RedisKeys,
        interval_s: float = PRUNE_EVERY_S,
        settle_s: float = SETTLE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._root = root
        self._client = client
        self._keys = keys
        self._interval_s = interval_s
        self._settle_s = settle_s
        self._clock = clock
        self._last_prune: float | None = None

    def prune_if_due(self) -> list[str]:
        """``prune`` when ``interval_s`` has passed since the last one; the ids removed."""
        now = self._clock()
        if self._last_prune is not None and now - self._last_prune < self._interval_s:
            return []
        self._last_prune = now
        return self.prune()

    def prune(self) -> list[str]:
        """Remove every settled copy whose voice has no record; the ids removed."""
        if not self._root.is_dir():
            return []
        cutoff = self._clock() - self._settle_s
        removed = []
        for folder in sorted(self._root.iterdir()):
            if not folder.is_dir() or folder.stat().st_mtime > cutoff:
                continue
            if self._client.exists(self._keys.voice(folder.name)):
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
        if removed:
            log.info("removed the local copies of %d deleted voices", len(removed))
        return removed


def voice_copies(settings: Settings, client: redis.Redis) -> VoiceCopies | None:
    """The worker's pruner; None where voices live in a local folder (deleting a voice
    there removes its only copy)."""
    if open_backend(settings.storage).local_path("voices/") is not None:
        return None
    return VoiceCopies(
        root=voice_files(settings.storage).root,
        client=client,
        keys=RedisKeys(settings.redis.prefix),
    )
