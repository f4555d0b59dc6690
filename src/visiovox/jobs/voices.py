"""Owners' registered RVC voices: records in Redis, files under ``voices/<id>/`` in storage.

The folder holds ``model.onnx``, the optional ``bank.npy`` and ``voice.json``
(the rate and median F0, for the workers, which read no voice record). With
the local backend it is ``<storage root>/voices/<id>/``; with S3 the gateway
writes the files there, then puts them in the bucket, and each worker fetches
a voice's files into the same local folder on first use (a voice's files never
change once registered, so that copy stays valid).

A voice is stored apart from jobs (job retention never removes it) and
belongs to its owner: reading another owner's voice answers None, so ids do
not leak. Registering writes the record as ``validating``, with the id of the
worker job that checks the files (``voice-validate``); the record is read
back through ``VoiceRegistry``, which settles a validating voice from its
job: ``ready`` once the job succeeded (kept in the record, so it outlives
the job's retention), removed with its files once the job failed, was
canceled or is gone. A failed file therefore never stays registered. The
per-owner caps (count and bytes) are checked and taken in one Lua step.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import redis.asyncio

from visiovox.config_storage import StorageSettings
from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.model import JobStatus
from visiovox.jobs.reader import JobReader
from visiovox.storage.backend import BlobNotFound, StorageBackend
from visiovox.storage.choose import open_backend
from visiovox.storage.local import LocalBackend

MODEL_FILE = "model.onnx"
META_FILE = "voice.json"
# The record is written just before its job is created: a job not there yet within
# this many seconds is still coming, not gone.
JOB_GRACE_S = 60.0
BANK_FILE = "bank.npy"

# KEYS: record, owner index, owner bytes. ARGV: max count, max bytes, bytes, then the fields.
_CREATE = """
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[1]) then return 'count' end
local used = tonumber(redis.call('GET', KEYS[3]) or '0')
if used + tonumber(ARGV[3]) > tonumber(ARGV[2]) then return 'bytes' end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('SADD', KEYS[2], KEYS[1])
redis.call('INCRBY', KEYS[3], ARGV[3])
return 'ok'
"""
# KEYS: record, owner index, owner bytes. ARGV: owner. Removes the record if it is the owner's.
_DELETE = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
local size = tonumber(redis.call('HGET', KEYS[1], 'bytes') or '0')
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], KEYS[1])
if redis.call('DECRBY', KEYS[3], size) <= 0 then redis.call('DEL', KEYS[3]) end
return 1
"""


class VoiceStatus(StrEnum):
    VALIDATING = "validating"
    READY = "ready"


@dataclass(frozen=True)
class Voice:
    """A registered voice as its owner sees it (``owner`` stays server-side)."""

    id: str
    owner: str
    name: str
    sample_rate: int
    status: VoiceStatus
    job_id: str
    bytes: int
    has_index: bool
    created_at: float
    f0_median_hz: float | None = None

    def public(self) -> dict[str, Any]:
        fields = asdict(self)
        del fields["owner"]
        return fields


@dataclass(frozen=True)
class VoiceMeta:
    """The part of a voice a worker reads from its folder."""

    sample_rate: int
    f0_median_hz: float | None


class VoiceLimit(Exception):
    """The owner is at ``voices.max_per_owner`` (``count``) or ``voices.max_bytes`` (``bytes``)."""

    def __init__(self, which: str) -> None:
        super().__init__(which)
        self.which = which


def voice_files(settings: StorageSettings) -> VoiceFiles:
    """The voices of the configured storage backend."""
    return VoiceFiles(settings.root, backend=open_backend(settings))


class VoiceFiles:
    """Where voices lie: ``voices/<id>/model.onnx`` and ``bank.npy``, with a local copy."""

    def __init__(self, storage_root: Path, *, backend: StorageBackend | None = None) -> None:
        self.root = storage_root.resolve() / "voices"
        self._backend = backend or LocalBackend(storage_root)

    def folder(self, voice_id: str) -> Path:
        """The voice's local folder (the gateway writes an upload into it)."""
        return self.root / voice_id

    def _key(self, voice_id: str, name: str = "") -> str:
        return f"voices/{voice_id}/{name}"

    def _local(self, voice_id: str, name: str) -> Path:
        """The local file ``name`` of the voice, fetched from the backend when missing."""
        path = self.folder(voice_id) / name
        if self._backend.local_path(self._key(voice_id)) is None and not path.exists():
            # Fetched beside, then renamed: a concurrent reader never sees half a file.
            partial = path.with_name(f".{name}.{uuid.uuid4().hex[:8]}")
            try:
                self._backend.get_file(self._key(voice_id, name), partial)
                os.replace(partial, path)
            except BlobNotFound:
                pass
            finally:
                partial.unlink(missing_ok=True)
        return path

    def model(self, voice_id: str) -> Path:
        return self._local(voice_id, MODEL_FILE)

    def bank(self, voice_id: str) -> Path:
        return self._local(voice_id, BANK_FILE)

    def publish(self, voice_id: str) -> None:
        """Move the files written into the voice's local folder into a remote backend."""
        if self._backend.local_path(self._key(voice_id)) is not None:
            return
        for path in sorted(self.folder(voice_id).iterdir()):
            self._backend.put_file(self._key(voice_id, path.name), path)
        shutil.rmtree(self.folder(voice_id), ignore_errors=True)

    def delete(self, voice_id: str) -> None:
        shutil.rmtree(self.folder(voice_id), ignore_errors=True)
        self._backend.delete_prefix(self._key(voice_id))

    def write_meta(self, voice_id: str, *, sample_rate: int, f0_median_hz: float | None) -> None:
        """What a worker needs beside the files: the rate and the owner's median F0."""
        meta = {"sample_rate": sample_rate, "f0_median_hz": f0_median_hz}
        (self.folder(voice_id) / META_FILE).write_text(json.dumps(meta))

    def read_meta(self, voice_id: str) -> VoiceMeta | None:
        """The voice's rate and median F0; None when the voice is gone."""
        try:
            meta = json.loads(self._local(voice_id, META_FILE).read_text())
        except (OSError, ValueError):
            return None
        median = meta.get("f0_median_hz")
        return VoiceMeta(
            sample_rate=int(meta["sample_rate"]),
            f0_median_hz=float(median) if median is not None else None,
        )


class VoiceRegistry:
    """Voice records on the gateway's asyncio client, settled against their validation jobs."""

    def __init__(
        self, client: redis.asyncio.Redis, *, prefix: str, files: VoiceFiles, reader: JobReader
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._keys = RedisKeys(prefix)
        self._files = files
        self._reader = reader

    def _record(self, voice_id: str) -> str:
        return self._keys.voice(voice_id)

    def _index(self, owner: str) -> str:
        return f"{self._prefix}:voices:{owner}"

    def _bytes(self, owner: str) -> str:
        return f"{self._prefix}:voices:{owner}:bytes"

    async def create(self, voice: Voice, *, max_count: int, max_bytes: int) -> None:
        """Store ``voice``; ``VoiceLimit`` when the owner's caps would be passed."""
        fields: list[Any] = []
        for name, value in asdict(voice).items():
            if value is not None:
                fields += [name, int(value) if isinstance(value, bool) else value]
        keys = [self._record(voice.id), self._index(voice.owner), self._bytes(voice.owner)]
        verdict = await self._redis.eval(
            _CREATE, 3, *keys, max_count, max_bytes, voice.bytes, *fields
        )
        verdict = verdict.decode() if isinstance(verdict, bytes) else verdict
        if verdict != "ok":
            raise VoiceLimit(str(verdict))

    async def get(self, voice_id: str, owner: str) -> Voice | None:
        """The owner's voice, settled; None when it is not theirs, unknown or failed validation."""
        raw = await self._redis.hgetall(self._record(voice_id))
        if not raw:
            return None
        voice = _decode(raw)
        return await self._settle(voice) if voice.owner == owner else None

    async def list(self, owner: str) -> list[Voice]:
        """The owner's voices, oldest first, each settled."""
        voices = []
        for key in await self._redis.smembers(self._index(owner)):
            voice_id = (key.decode() if isinstance(key, bytes) else key).rsplit(":", 1)[-1]
            found = await self.get(voice_id, owner)
            if found is not None:
                voices.append(found)
            elif not await self._redis.exists(self._record(voice_id)):
                await self._redis.srem(self._index(owner), key)
        return sorted(voices, key=lambda voice: voice.created_at)

    async def usage(self, owner: str) -> tuple[int, int]:
        """How many voices and bytes the owner holds now (failed ones removed first)."""
        voices = await self.list(owner)
        return len(voices), sum(voice.bytes for voice in voices)

    async def delete(self, voice_id: str, owner: str) -> bool:
        """Remove the owner's voice and its files; False when there was none of theirs."""
        keys = [self._record(voice_id), self._index(owner), self._bytes(owner)]
        removed = await self._redis.eval(_DELETE, 3, *keys, owner)
        if removed:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._files.delete, voice_id)
        return bool(removed)

    async def _settle(self, voice: Voice) -> Voice | None:
        if voice.status is VoiceStatus.READY:
            return voice
        job = await self._reader.get_for_owner(voice.job_id, voice.owner)
        if job is None and time.time() - voice.created_at < JOB_GRACE_S:
            return voice
        if job is not None and not job.status.is_terminal:
            return voice
        if job is not None and job.status is JobStatus.SUCCEEDED:
            await self._redis.hset(self._record(voice.id), "status", VoiceStatus.READY.value)
            return Voice(**{**asdict(voice), "status": VoiceStatus.READY})
        await self.delete(voice.id, voice.owner)
        return None


def new_voice(
    *,
    voice_id: str,
    owner: str,
    name: str,
    sample_rate: int,
    job_id: str,
    size: int,
    has_index: bool,
    f0_median_hz: float | None,
) -> Voice:
    """A voice about to be validated."""
    return Voice(
        id=voice_id,
        owner=owner,
        name=name,
        sample_rate=sample_rate,
        status=VoiceStatus.VALIDATING,
        job_id=job_id,
        bytes=size,
        has_index=has_index,
        created_at=time.time(),
        f0_median_hz=f0_median_hz,
    )


def _decode(raw: dict[Any, Any]) -> Voice:
    fields = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in raw.items()
    }
    median = fields.get("f0_median_hz")
    return Voice(
        id=fields["id"],
        owner=fields["owner"],
        name=fields["name"],
        sample_rate=int(fields["sample_rate"]),
        status=VoiceStatus(fields["status"]),
        job_id=fields["job_id"],
        bytes=int(fields["bytes"]),
        has_index=fields["has_index"] == "1",
        created_at=float(fields["created_at"]),
        f0_median_hz=float(median) if median is not None else None,
    )
