"""Fetch one model file from a Hugging Face repository with ``huggingface_hub.hf_hub_download``.

The file downloads into a staging folder (``.hf`` beside the target, the
library's ``local_dir`` mode, which resumes its own ``.incomplete`` files),
is checked against the manifest's size and digest (sha256, or md5), then renamed into place.
``HF_TOKEN`` and ``HF_ENDPOINT`` work as for any Hugging Face tool; an
explicit endpoint (``models.hf_endpoint``) wins over ``HF_ENDPOINT``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from visiovox.models.hashing import Digest
from visiovox.models.source_specs import HFSource

STAGING_DIR = ".hf"


class HFDownloadFailed(Exception):
    """The repository cannot provide the file."""


def download_hf(
    source: HFSource,
    *,
    filename: str,
    dest: Path,
    size: int,
    digest: Digest,
    endpoint: str | None = None,
    timeout_s: float = 30.0,
    on_bytes: Callable[[int], None] | None = None,
) -> None:
    """Make ``dest`` the verified ``filename`` of ``source``, or raise ``HFDownloadFailed``."""
    from huggingface_hub import hf_hub_download

    staging = dest.parent / STAGING_DIR
    try:
        fetched = Path(
            hf_hub_download(
                repo_id=source.repo,
                filename=filename,
                revision=source.revision,
                repo_type=source.repo_type,
                local_dir=staging,
                endpoint=endpoint,
                etag_timeout=timeout_s,
                tqdm_class=_forwarding_tqdm(on_bytes) if on_bytes is not None else None,
            )
        )
    # huggingface_hub raises its own errors, httpx's and OSError, varying across versions.
    except Exception as exc:
        raise HFDownloadFailed(f"{source.describe()} {filename}: {exc}") from exc
    got_size = fetched.stat().st_size
    got = digest.of(fetched)
    if got_size != size or got != digest.hexdigest:
        fetched.unlink(missing_ok=True)
        raise HFDownloadFailed(
            f"{source.describe()} {filename} is {got_size} bytes with {digest.algorithm} {got}, "
            f"expected {size} bytes with {digest.pin}; the download was deleted"
        )
    os.replace(fetched, dest)
    shutil.rmtree(staging, ignore_errors=True)


def _forwarding_tqdm(on_bytes: Callable[[int], None]) -> Any:
    """A silent tqdm class that reports the running byte count to ``on_bytes``."""
    from tqdm.auto import tqdm

    class ForwardingTqdm(tqdm):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.bytes_done = int(kwargs.get("initial") or 0)
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            self.bytes_done += int(n or 0)
            on_bytes(self.bytes_done)
            result: bool | None = super().update(n)
            return result

    return ForwardingTqdm
