"""Resident memory of another process from ``/proc/<pid>/status``: now, and its peak."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessMemory:
    """Reads VmRSS and VmHWM (the peak) of ``pid``; ``reset_peak`` restarts the peak."""

    pid: int

    def _field_mb(self, name: str) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) / 1024
        raise LookupError(f"no {name} for process {self.pid}")

    def rss_mb(self) -> float:
        return self._field_mb("VmRSS")

    def peak_mb(self) -> float:
        return self._field_mb("VmHWM")

    def reset_peak(self) -> None:
        """Set the peak to the current RSS (Linux: ``5`` into ``clear_refs``)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")
