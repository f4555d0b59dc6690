"""A live session's own figures: frames in and out a second, latency percentiles, drops.

``report`` is the client's ``stats`` message; ``figures`` the running totals
and latency histogram the worker's heartbeat carries to ``/v1/workers`` and
``/metrics``.
"""

from __future__ import annotations

import bisect
import time
from collections import deque

import numpy as np

from visiovox.jobs.workers import LIVE_LATENCY_BUCKETS_MS, LiveFigures

# Latencies kept for the percentiles (the last few seconds at 30 fps).
LATENCIES_KEPT = 300


class SessionStats:
    """Counts answered and dropped frames; ``report`` gives the ``stats`` message's fields."""

    def __init__(self) -> None:
        self.frames_out = 0
        self.dropped = 0
        self._latencies_ms: deque[float] = deque(maxlen=LATENCIES_KEPT)
        # Answers per LIVE_LATENCY_BUCKETS_MS bound (not cumulative), the last over them all.
        self._bucket_counts = [0] * (len(LIVE_LATENCY_BUCKETS_MS) + 1)
        self._latency_sum_ms = 0.0
        self._since = time.monotonic()
        self._in_at_report = 0
        self._out_at_report = 0

    def answered(self, latency_ms: float) -> None:
        self.frames_out += 1
        self._latencies_ms.append(latency_ms)
        self._bucket_counts[bisect.bisect_left(LIVE_LATENCY_BUCKETS_MS, latency_ms)] += 1
        self._latency_sum_ms += latency_ms

    def due(self, every_s: float) -> bool:
        return time.monotonic() - self._since >= every_s

    def report(self, frames_in: int) -> dict[str, float | int]:
        """Rates since the last report; latency percentiles of the recent answers."""
        now = time.monotonic()
        span = max(now - self._since, 1e-6)
        p50, p95 = self._percentiles()
        fields: dict[str, float | int] = {
            "fps_in": round((frames_in - self._in_at_report) / span, 2),
            "fps_out": round((self.frames_out - self._out_at_report) / span, 2),
            "latency_ms_p50": p50,
            "latency_ms_p95": p95,
            "dropped": self.dropped,
        }
        self._since, self._in_at_report, self._out_at_report = now, frames_in, self.frames_out
        return fields

    def figures(self, frames_in: int) -> LiveFigures:
        """The session's totals since it began, and its latency histogram (cumulative buckets)."""
        p50, p95 = self._percentiles()
        return LiveFigures(
            frames_in=frames_in,
            frames_out=self.frames_out,
            dropped=self.dropped,
            latency_ms_p50=p50,
            latency_ms_p95=p95,
            latency_buckets=np.cumsum(self._bucket_counts).tolist(),
            latency_sum_ms=round(self._latency_sum_ms, 1),
        )

    def _percentiles(self) -> tuple[float, float]:
        latencies = np.array(self._latencies_ms) if self._latencies_ms else np.zeros(1)
        p50, p95 = np.percentile(latencies, [50, 95])
        return round(float(p50), 1), round(float(p95), 1)
