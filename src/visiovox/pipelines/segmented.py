"""A long face-edit video split across the fleet: plan the segments, edit one, stitch them.

``face-swap`` and ``face-enhance`` call ``split_or_stitch`` first for a video
target (``pipelines/face_edit.py`` edits a segment). A video longer than
``fleet.segment_s`` is cut where ``media/video_cuts.py`` says, each cut a
segment job (``jobs/segments.py``) any capable worker runs; the parent's run
ends there, holding no worker. When the last segment succeeds the parent runs
again to join them (``media/video_segments.py``: packets copied, the audio
muxed once). A run where jobs are not split (``ctx.segments()`` None, the test
harness) edits the whole video.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from visiovox.errors import PipelineError
from visiovox.jobs.segments import SegmentJob
from visiovox.media.errors import MediaError
from visiovox.media.video import VIDEO_FORMATS
from visiovox.media.video_cuts import Span, frame_index, plan_cuts
from visiovox.media.video_segments import join_segments
from visiovox.pipelines.context import RunContext, SegmentWork

SEGMENT_OUTPUT = "segment"
_SPAN_FIELDS = tuple(field.name for field in dataclasses.fields(Span))


def segment_name(video_format: str) -> str:
    """The file a segment job writes its frames to (no audio)."""
    return f"{SEGMENT_OUTPUT}.{VIDEO_FORMATS[video_format].extension}"


def balanced_segment(frames: int, *, longest: int, workers: int) -> int:
    """Frames per segment: at most ``longest``; when there are at least as many segments
    as workers, their count a multiple of the workers, so the fleet's last round is full
    (60 s at 20 s on two workers: four segments of 15 s, two rounds, not three of 20 s)."""
    count = math.ceil(frames / longest)
    if workers > 1 and count >= workers:
        count = math.ceil(count / workers) * workers
    return math.ceil(frames / count)


def segment_span(ctx: RunContext) -> Span | None:
    """The frames this attempt edits when it runs one segment, else None."""
    work = ctx.segments()
    if work is None or work.role.segment is None:
        return None
    plan = work.role.segment
    return Span(**{name: plan[name] for name in _SPAN_FIELDS})


def split_or_stitch(
    ctx: RunContext, *, done: str, video_format: str, keep_audio: bool
) -> dict[str, Any] | None:
    """The stitched result when this run joins segments; splits a long video (the run then
    ends with ``SegmentsPlanned``); None when this run edits frames itself."""
    work = ctx.segments()
    if work is None:
        return None
    role = work.role
    if role.children:
        return _stitch(ctx, work, done=done, video_format=video_format, keep_audio=keep_audio)
    if role.can_split:
        _split_if_long(ctx, work)
    return None


def _split_if_long(ctx: RunContext, work: SegmentWork) -> None:
    fleet = ctx.settings.fleet
    target = ctx.input("target")
    if (
        target is not None
        and target.duration_s is not None
        and target.duration_s <= fleet.segment_s
    ):
        return  # the upload's probe already tells: no need to read the packets
    try:
        index = frame_index(ctx.input_path("target"), max_pixels=ctx.settings.video.max_pixels)
    except MediaError as exc:
        raise PipelineError(exc.code, exc.message) from exc
    if index is None or index.duration_s <= fleet.segment_s:
        return
    if index.frames > ctx.settings.video.max_frames:
        cap = ctx.settings.video.max_frames
        raise PipelineError("too_long", f"the video has over {cap} frames (the cap)")
    segment_frames = balanced_segment(
        index.frames,
        longest=max(1, round(fleet.segment_s * float(index.rate))),
        workers=work.fleet_size(),
    )
    spans = plan_cuts(
        index,
        segment_frames=segment_frames,
        slack_frames=int(segment_frames * fleet.keyframe_slack),
        warmup_frames=fleet.warmup_frames,
    )
    if len(spans) < 2:
        return
    ctx.log(
        f"split into {len(spans)} segments of about {fleet.segment_s:g} s "
        f"({sum(span.at_keyframe for span in spans)} cut at a keyframe)"
    )
    work.split([SegmentJob(plan=dataclasses.asdict(span), frames=span.frames) for span in spans])


def _stitch(
    ctx: RunContext, work: SegmentWork, *, done: str, video_format: str, keep_audio: bool
) -> dict[str, Any]:
    ctx.stage("stitch")
    children = work.role.children
    results = [work.child_result(child) for child in children]
    edited = sum(int(result.get(f"frames_{done}", 0)) for result in results)
    if edited == 0:
        raise PipelineError("no_face_found", "no frame of the target video has a face")
    parts = [work.child_output(child, segment_name(video_format)) for child in children]
    fmt = VIDEO_FORMATS[video_format]
    name = f"{done}.{fmt.extension}"
    path = ctx.output_path(name)
    audio = ctx.input_path("target") if keep_audio else None
    try:
        written = join_segments(parts, path, audio_source=audio, output_format=video_format)
    except MediaError as exc:
        path.unlink(missing_ok=True)
        raise PipelineError(exc.code, exc.message) from exc
    ctx.add_output(name, fmt.content_type)
    work.discard_children()
    ctx.progress(100.0, stage="stitch")
    return {
        "frames": written.frames,
        f"frames_{done}": edited,
        "detections": sum(int(result.get("detections", 0)) for result in results),
        "duration_s": written.duration_s,
        "width": written.width,
        "height": written.height,
        "audio": written.audio,
        "segments": len(children),
    }
