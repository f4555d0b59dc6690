"""Where a long video is cut into segments that several workers edit at once.

``frame_index`` reads every video packet's timestamp and keyframe flag
without decoding a frame (a demux: about a second for an hour of video), so
frames are numbered in presentation order. ``plan_cuts`` then cuts the
timeline near each multiple of ``segment_frames``: at the keyframe nearest
the mark when one lies within ``slack_frames`` of it (decoding starts right
there), else at the mark itself, a boundary the segment's worker reaches by
decoding from the keyframe before it (every segment is re-encoded anyway, so a
cut needs no keyframe; a far one only costs decoding). A tail shorter than
half a segment joins the segment before it. Each segment also names the few
frames before it (``warm``) that its worker runs its face tracker on, so the
faces of its first frame are tracked as in one continuous run.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from visiovox.media._av import av
from visiovox.media.capped_open import open_capped
from visiovox.media.errors import MediaError

DEFAULT_RATE = Fraction(25)


@dataclass(frozen=True)
class FrameIndex:
    """A video track's frames in presentation order: their timestamps and the keyframes."""

    pts: list[int]
    keyframes: list[int]  # indexes into ``pts``, ascending
    rate: Fraction

    @property
    def frames(self) -> int:
        return len(self.pts)

    @property
    def duration_s(self) -> float:
        return self.frames / float(self.rate)


@dataclass(frozen=True)
class Span:
    """Frames ``[start, end)`` of the output, decoded from keyframe ``seek``, warmed from ``warm``.

    ``*_pts`` are the same frames' timestamps in the source (``end_pts`` None: to the end),
    which is how a worker finds them after seeking.
    """

    index: int
    start: int
    end: int
    warm: int
    seek: int
    seek_pts: int
    warm_pts: int
    start_pts: int
    end_pts: int | None
    at_keyframe: bool

    @property
    def frames(self) -> int:
        return self.end - self.start


def frame_index(path: Path, *, max_pixels: int | None = None) -> FrameIndex | None:
    """The frames of ``path``'s first video track; None when their timestamps cannot
    number them (a missing or repeated one), so the video is edited in one piece."""
    try:
        with open_capped(path, max_pixels=max_pixels) as container:
            if not container.streams.video:
                raise MediaError("invalid_media", "the file has no video track")
            stream = container.streams.video[0]
            rate = stream.average_rate or DEFAULT_RATE
            stamps: list[tuple[int, bool]] = []
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue  # the demuxer's end-of-stream flush packet
                if packet.pts is None:
                    return None
                stamps.append((packet.pts, packet.is_keyframe))
    except av.FFmpegError as exc:
        raise MediaError("invalid_media", f"cannot read the video: {exc}") from exc
    stamps.sort()
    pts = [stamp for stamp, _key in stamps]
    if not pts or len(set(pts)) != len(pts):
        return None
    keyframes = [index for index, (_stamp, key) in enumerate(stamps) if key]
    return FrameIndex(pts=pts, keyframes=keyframes, rate=Fraction(rate))


def plan_cuts(
    index: FrameIndex, *, segment_frames: int, slack_frames: int, warmup_frames: int
) -> list[Span]:
    """The segments of ``index``'s timeline (one when it is no longer than a segment)."""
    if segment_frames < 1:
        raise ValueError("segment_frames must be at least 1")
    frames = index.frames
    starts = [0]
    # Marks at whole multiples of the segment, so a keyframe's pull on one cut does
    # not move the rest: the count of segments stays what the planner chose.
    for mark in range(segment_frames, frames, segment_frames):
        cut = _nearest_keyframe(index.keyframes, mark, slack_frames, after=starts[-1]) or mark
        if frames - cut < (segment_frames + 1) // 2:
            break  # a short tail joins the segment before it
        starts.append(cut)
    ends = [*starts[1:], frames]
    keyframes = set(index.keyframes)
    return [
        _span(index, number=number, start=start, end=end, warmup=warmup_frames, keys=keyframes)
        for number, (start, end) in enumerate(zip(starts, ends, strict=True))
    ]


def _nearest_keyframe(keyframes: list[int], mark: int, slack: int, *, after: int) -> int | None:
    """The keyframe closest to ``mark`` within ``slack`` frames and past ``after``, if any."""
    low = bisect.bisect_left(keyframes, max(mark - slack, after + 1))
    high = bisect.bisect_right(keyframes, mark + slack)
    near = keyframes[low:high]
    return min(near, key=lambda key: (abs(key - mark), key)) if near else None


def _span(
    index: FrameIndex, *, number: int, start: int, end: int, warmup: int, keys: set[int]
) -> Span:
    warm = max(0, start - warmup)
    position = bisect.bisect_right(index.keyframes, warm) - 1
    seek = index.keyframes[position] if position >= 0 else 0
    return Span(
        index=number,
        start=start,
        end=end,
        warm=warm,
        seek=seek,
        seek_pts=index.pts[seek],
        warm_pts=index.pts[warm],
        start_pts=index.pts[start],
        end_pts=index.pts[end] if end < index.frames else None,
        at_keyframe=start in keys,
    )
