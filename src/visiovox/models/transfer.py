"""How a model fetch is told to behave and how it reports progress.

``FetchOptions`` carries what every source needs (offline switch, endpoint,
timeouts) and an optional ``ProgressCallback``; the CLI turns progress into a
tqdm bar, a worker turns it into the job's events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from visiovox.config import Settings


@dataclass(frozen=True)
class TransferProgress:
    """Bytes of one model file fetched so far; ``verified`` once it is checked and in place."""

    model_id: str
    path: str
    source: str
    done: int
    total: int
    verified: bool = False

    @property
    def percent(self) -> float:
        return min(100.0, 100.0 * self.done / self.total) if self.total else 100.0


ProgressCallback = Callable[[TransferProgress], None]


@dataclass(frozen=True)
class FetchOptions:
    """Settings of one fetch: may it use the network, where, how patiently, who hears progress."""

    offline: bool = False
    hf_endpoint: str | None = None
    timeout_s: float = 30.0
    attempts: int = 5
    lock_timeout_s: float = 900.0
    progress: ProgressCallback | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, progress: ProgressCallback | None = None
    ) -> FetchOptions:
        models = settings.models
        return cls(
            offline=models.offline,
            hf_endpoint=models.hf_endpoint,
            timeout_s=models.download_timeout_s,
            attempts=models.download_attempts,
            lock_timeout_s=models.lock_timeout_s,
            progress=progress,
        )


@dataclass(frozen=True)
class FileReporter:
    """Progress of one file from one source, forwarded to a ``ProgressCallback`` if any."""

    callback: ProgressCallback | None
    model_id: str
    path: str
    source: str
    total: int

    def __call__(self, done: int) -> None:
        self._send(done, verified=False)

    def verified(self) -> None:
        """The file is checked and in place."""
        self._send(self.total, verified=True)

    def _send(self, done: int, *, verified: bool) -> None:
        if self.callback is not None:
            self.callback(
                TransferProgress(
                    model_id=self.model_id,
                    path=self.path,
                    source=self.source,
                    done=done,
                    total=self.total,
                    verified=verified,
                )
            )
