"""Where a long video is cut: at keyframes near each mark, at the mark where they are sparse."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest

from visiovox.media.video_cuts import FrameIndex, plan_cuts


def index(frames: int, keyframes: list[int]) -> FrameIndex:
    """A video of ``frames`` frames at 10 fps, time base 1/1000."""
    return FrameIndex(pts=[100 * i for i in range(frames)], keyframes=keyframes, rate=Fraction(10))


def bounds(frames: int, keyframes: list[int], **options: int) -> list[tuple[int, int]]:
    settings = {"segment_frames": 20, "slack_frames": 5, "warmup_frames": 3, **options}
    return [(span.start, span.end) for span in plan_cuts(index(frames, keyframes), **settings)]


def test_cuts_move_to_the_nearest_keyframe_within_the_slack() -> None:
    spans = plan_cuts(
        index(100, [0, 12, 18, 23, 41, 60, 77, 96]),
        segment_frames=20,
        slack_frames=5,
        warmup_frames=3,
    )
    assert [(s.start, s.end) for s in spans] == [(0, 18), (18, 41), (41, 60), (60, 77), (77, 100)]
    assert all(span.at_keyframe for span in spans)
    # The frames before a cut warm the tracker; decoding starts at the keyframe before them.
    second = spans[1]
    assert (second.warm, second.seek) == (15, 12)
    assert (second.seek_pts, second.warm_pts, second.start_pts, second.end_pts) == (
        1200,
        1500,
        1800,
        4100,
    )
    assert spans[-1].end_pts is None


def test_sparse_keyframes_give_re_encoded_boundaries_at_the_marks() -> None:
    spans = plan_cuts(index(65, [0]), segment_frames=20, slack_frames=5, warmup_frames=3)
    assert [(s.start, s.end) for s in spans] == [(0, 20), (20, 40), (40, 65)]
    assert [span.at_keyframe for span in spans] == [True, False, False]
    assert all(span.seek == 0 for span in spans)  # decoded from the one keyframe


def test_every_frame_is_in_exactly_one_segment() -> None:
    for frames in (1, 19, 20, 21, 29, 30, 31, 200, 1001):
        spans = bounds(frames, list(range(0, frames, 7)))
        assert spans[0][0] == 0 and spans[-1][1] == frames
        assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))


def test_a_short_tail_joins_the_segment_before() -> None:
    assert bounds(45, [0]) == [(0, 20), (20, 45)]
    assert bounds(50, [0]) == [(0, 20), (20, 40), (40, 50)]
    assert bounds(20, [0]) == [(0, 20)]


def test_the_first_frames_need_no_warm_up_and_no_seek() -> None:
    first = plan_cuts(index(60, [0, 20, 40]), segment_frames=20, slack_frames=0, warmup_frames=3)
    assert (first[0].warm, first[0].seek, first[0].start) == (0, 0, 0)
    assert (first[1].warm, first[1].seek) == (17, 0)


def test_a_zero_segment_is_refused() -> None:
    with pytest.raises(ValueError, match="segment_frames"):
        plan_cuts(index(10, [0]), segment_frames=0, slack_frames=0, warmup_frames=0)
