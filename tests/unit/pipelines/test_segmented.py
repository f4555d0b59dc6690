"""How many frames a segment gets: at most ``fleet.segment_s``, in full rounds of the fleet."""

from __future__ import annotations

import pytest

from visiovox.pipelines.segmented import balanced_segment


@pytest.mark.parametrize(
    ("frames", "workers", "expected"),
    [
        (1500, 1, 500),  # 60 s at 25 fps, 20 s segments, alone: three segments
        (1500, 2, 375),  # two workers: four of 15 s, two full rounds
        (1500, 3, 500),  # three: one round of three
        (1500, 8, 500),  # fewer segments than workers: never shorter than needed
        (90_000, 32, 469),  # an hour on 32 workers: 192 segments, six full rounds
        (90_000, 128, 352),  # on 128: 256 segments, two full rounds
    ],
)
def test_segments_fill_whole_rounds_of_the_fleet(frames: int, workers: int, expected: int) -> None:
    assert balanced_segment(frames, longest=500, workers=workers) == expected
    count = -(-frames // expected)
    assert expected <= 500
    if count >= workers:
        assert count % workers == 0
