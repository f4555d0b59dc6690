"""A discrete-event simulation of a long segmented video job on 8, 32 and 128 workers.

Pure Python, no video: the job is planned as the workers would plan it (the
same ``balanced_segment`` and ``plan_cuts`` on a frame index with a keyframe
every KEYINT frames, x264's default), then played out: one worker runs the
planner (``planner_s_per_min`` per minute of video: reading the packets, the
split), every segment waits ``dispatch_s`` for its claim on the first free
worker and costs ``segment_overhead_s`` (the job's set-up, the seek and the
tracker's warm-up) plus ``frame_s`` per frame, and the stitch waits its own
claim after the last segment and costs ``stitch_s_per_min`` per minute. The
costs' defaults are ``bench/fleet.py``'s measurements (``docs/benchmarks.md``).

Makespan is compared with the ideal: the video's frames at ``frame_s`` spread
evenly over the workers, plus the stitch (which no fleet can share). The
second table plans with plain ``fleet.segment_s`` cuts, without filling the
fleet's rounds, for comparison.
"""

from __future__ import annotations

import argparse
import heapq
from dataclasses import dataclass
from fractions import Fraction

from visiovox.config_storage import FleetSettings
from visiovox.media.video_cuts import FrameIndex, plan_cuts
from visiovox.pipelines.segmented import balanced_segment

KEYINT = 250
WORKERS = (1, 8, 32, 128)


@dataclass(frozen=True)
class Costs:
    """Seconds each part of a segmented job takes on one worker."""

    frame_s: float
    segment_overhead_s: float
    dispatch_s: float
    planner_s_per_min: float
    stitch_s_per_min: float


@dataclass(frozen=True)
class Outcome:
    """One simulated job: its segments, makespan and ideal."""

    workers: int
    segments: int
    makespan_s: float
    ideal_s: float

    @property
    def ratio(self) -> float:
        return self.makespan_s / self.ideal_s


def segment_frames(
    *, video_s: float, fps: int, segment_s: float, slack: float, workers: int, balanced: bool
) -> list[int]:
    """The frames of each segment, as the planner cuts them."""
    frames = round(video_s * fps)
    index = FrameIndex(
        pts=list(range(frames)), keyframes=list(range(0, frames, KEYINT)), rate=Fraction(fps)
    )
    longest = round(segment_s * fps)
    size = balanced_segment(frames, longest=longest, workers=workers) if balanced else longest
    spans = plan_cuts(index, segment_frames=size, slack_frames=int(size * slack), warmup_frames=3)
    return [span.frames for span in spans]


def simulate(segments: list[int], *, workers: int, minutes: float, costs: Costs) -> Outcome:
    """Play the job out on ``workers`` idle workers."""
    split_at = costs.dispatch_s + costs.planner_s_per_min * minutes
    free = [0.0] * (workers - 1) + [split_at]
    heapq.heapify(free)
    last_end = split_at
    for frames in segments:
        start = max(heapq.heappop(free), split_at) + costs.dispatch_s
        end = start + costs.segment_overhead_s + frames * costs.frame_s
        heapq.heappush(free, end)
        last_end = max(last_end, end)
    stitch_s = costs.stitch_s_per_min * minutes
    makespan = last_end + costs.dispatch_s + stitch_s
    ideal = sum(segments) * costs.frame_s / workers + stitch_s
    return Outcome(workers=workers, segments=len(segments), makespan_s=makespan, ideal_s=ideal)


def table(
    *, video_s: float, fps: int, segment_s: float, slack: float, costs: Costs, balanced: bool
) -> None:
    print("| workers | segments | makespan s | ideal s | makespan / ideal |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for workers in WORKERS:
        segments = segment_frames(
            video_s=video_s,
            fps=fps,
            segment_s=segment_s,
            slack=slack,
            workers=workers,
            balanced=balanced,
        )
        outcome = simulate(segments, workers=workers, minutes=video_s / 60, costs=costs)
        print(
            f"| {workers} | {outcome.segments} | {outcome.makespan_s:.1f} | "
            f"{outcome.ideal_s:.1f} | {outcome.ratio:.3f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video-s", type=float, default=3600.0)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--segment-s", type=float, default=20.0)
    parser.add_argument("--keyframe-slack", type=float, default=FleetSettings().keyframe_slack)
    # bench/fleet.py's figures (docs/benchmarks.md): a frame of the 640x360 face swap
    # on one core, a segment's own cost beyond its frames (one worker segmented less
    # whole, over its three segments), a claim's wait, the planner and the stitch.
    parser.add_argument("--frame-s", type=float, default=0.0113)
    parser.add_argument("--segment-overhead-s", type=float, default=0.15)
    parser.add_argument("--dispatch-s", type=float, default=0.005)
    parser.add_argument("--planner-s-per-min", type=float, default=0.02)
    parser.add_argument("--stitch-s-per-min", type=float, default=0.05)
    args = parser.parse_args()
    costs = Costs(
        frame_s=args.frame_s,
        segment_overhead_s=args.segment_overhead_s,
        dispatch_s=args.dispatch_s,
        planner_s_per_min=args.planner_s_per_min,
        stitch_s_per_min=args.stitch_s_per_min,
    )
    print(
        f"{args.video_s:g} s at {args.fps} fps, fleet.segment_s {args.segment_s:g}, "
        f"keyframe slack {args.keyframe_slack:g}, {costs}"
    )
    for balanced, title in (
        (True, "segments filling the fleet's rounds (the planner's rule):"),
        (False, "plain fleet.segment_s cuts:"),
    ):
        print(title)
        table(
            video_s=args.video_s,
            fps=args.fps,
            segment_s=args.segment_s,
            slack=args.keyframe_slack,
            costs=costs,
            balanced=balanced,
        )


if __name__ == "__main__":
    main()
