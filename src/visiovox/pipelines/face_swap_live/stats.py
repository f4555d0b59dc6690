"""A live session's own figures: frames in and out a second, latency percentiles, drops."""

from __future__ import annotations

import time
from collections import deque

import numpy as np

# Latencies kept for the percentiles (the last few seconds at 30 fps).
LATENCIES_KEPT = 300


class SessionStats:
    """Counts answered and dropped frames; ``report`` gives the ``stats`` message's fields."""

    def __init__(self) -> None:
        self.frames_out = 0
        self.dropped = 0
        self._latencies_ms: deque[float] = deque(maxlen=LATENCIES_KEPT)
        self._since = time.monotonic()
        self._in_at_report = 0
        self._out_at_report = 0

    def answered(self, latency_ms: float) -> None:
        self.frames_out += 1
        self._latencies_ms.append(latency_ms)

    def due(self, every_s: float) -> bool:
        return time.monotonic() - self._since >= every_s

    def report(self, frames_in: int) -> dict[str, float | int]:
        """Rates since the last report; latency percentiles of the recent answers."""
        now = time.monotonic()
        span = max(now - self._since, 1e-6)
        latencies = np.array(self._latencies_ms) if self._latencies_ms else np.zeros(1)
        fields: dict[str, float | int] = {
            "fps_in": round((frames_in - self._in_at_report) / span, 2),
            "fps_out": round((self.frames_out - self._out_at_report) / span, 2),
            "latency_ms_p50": round(float(np.percentile(latencies, 50)), 1),
            "latency_ms_p95": round(float(np.percentile(latencies, 95)), 1),
            "dropped": self.dropped,
        }
        self._since, self._in_at_report, self._out_at_report = now, frames_in, self.frames_out
        return fields
