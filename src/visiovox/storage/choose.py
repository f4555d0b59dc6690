"""The process's storage backend, made once per storage settings (a boto3 client is costly)."""

from __future__ import annotations

import threading

from visiovox.config_storage import StorageSettings
from visiovox.storage.backend import StorageBackend
from visiovox.storage.local import LocalBackend

_backends: dict[str, StorageBackend] = {}
_lock = threading.Lock()


def open_backend(settings: StorageSettings) -> StorageBackend:
    """The backend ``storage.backend`` names; the same object for the same settings."""
    identity = settings.model_dump_json()
    with _lock:
        backend = _backends.get(identity)
        if backend is None:
            backend = _make(settings)
            _backends[identity] = backend
        return backend


def _make(settings: StorageSettings) -> StorageBackend:
    if settings.backend == "s3":
        from visiovox.storage.s3 import S3Backend  # boto3 is imported only when used

        return S3Backend(settings.s3)
    return LocalBackend(settings.root)
