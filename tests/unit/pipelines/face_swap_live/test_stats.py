"""``SessionStats.figures``: a live session's totals and its cumulative latency histogram."""

from __future__ import annotations

from visiovox.jobs.workers import LIVE_LATENCY_BUCKETS_MS
from visiovox.pipelines.face_swap_live.stats import SessionStats


def test_figures_count_frames_and_bucket_each_latency_at_its_bound() -> None:
    stats = SessionStats()
    for latency_ms in (5.0, 10.0, 40.0, 2000.0):  # 10 ms is on a bound: counted in it
        stats.answered(latency_ms)
    stats.dropped = 3

    figures = stats.figures(frames_in=7)

    assert (figures.frames_in, figures.frames_out, figures.dropped) == (7, 4, 3)
    bounds = (*LIVE_LATENCY_BUCKETS_MS, float("inf"))
    by_bound = dict(zip(bounds, figures.latency_buckets, strict=True))
    assert by_bound[10.0] == 2
    assert by_bound[35.0] == 2
    assert by_bound[50.0] == 3
    assert by_bound[1000.0] == 3
    assert by_bound[float("inf")] == 4
    assert figures.latency_sum_ms == 2055.0
    assert figures.latency_ms_p50 == 25.0
