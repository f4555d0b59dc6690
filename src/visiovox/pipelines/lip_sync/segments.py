"""A long lip-sync split across the fleet: ranges of output frames, one analysis, one audio.

The output follows the audio (the face video looped or ping-ponged under it),
so a lip-sync is cut into ranges of output frames, not at the face video's
keyframes. The parent finds the faces of every source frame once and shares
them (``analysis.json``: each frame's box, landmarks and Wav2Lip crop) with
its segments, which only render their range (``render.RenderSpan``: no audio,
the same encoder and settings); the stitch joins their packets and muxes the
uploaded audio once (``media/video_segments.py``). Every engine renders a
frame from its index alone, so a segment's frames are the single run's.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from visiovox.engines.face.types import Face, FaceBox
from visiovox.engines.lipsync.face_box import CropBox
from visiovox.errors import PipelineError
from visiovox.jobs.segments import SegmentJob
from visiovox.media.errors import MediaError
from visiovox.media.video_segments import join_segments
from visiovox.pipelines.context import RunContext, SegmentWork
from visiovox.pipelines.lip_sync.render import OUTPUT, RenderSpan
from visiovox.pipelines.segmented import balanced_segment

ANALYSIS = "analysis.json"
SEGMENT_OUTPUT = "segment.mp4"


def render_span(work: SegmentWork | None) -> RenderSpan | None:
    """The output frames this attempt renders when it runs one segment, else None."""
    if work is None or work.role.segment is None:
        return None
    plan = work.role.segment
    return RenderSpan(
        start=int(plan["start"]), end=int(plan["end"]), output=SEGMENT_OUTPUT, report=work.report
    )


def split_if_long(
    ctx: RunContext,
    work: SegmentWork,
    *,
    frames: int,
    fps: float,
    faces: list[Face | None],
    crops: list[CropBox | None],
) -> None:
    """Split a video longer than ``fleet.segment_s`` (the run ends, ``SegmentsPlanned``)."""
    fleet = ctx.settings.fleet
    if frames / fps <= fleet.segment_s:
        return
    size = balanced_segment(
        frames, longest=max(1, round(fleet.segment_s * fps)), workers=work.fleet_size()
    )
    starts = list(range(0, frames, size))
    if len(starts) < 2:
        return
    path = ctx.output_path(ANALYSIS)
    path.write_text(json.dumps(_analysis(faces, crops)))
    work.share(ANALYSIS, path)
    ends = [*starts[1:], frames]
    ctx.log(f"split into {len(starts)} segments of about {size / fps:.1f} s")
    work.split(
        [
            SegmentJob(plan={"index": index, "start": start, "end": end}, frames=end - start)
            for index, (start, end) in enumerate(zip(starts, ends, strict=True))
        ]
    )


def shared_analysis(work: SegmentWork) -> tuple[list[Face | None], list[CropBox | None]]:
    """The faces and crops the parent found, as its segments read them."""
    frames = json.loads(work.shared(ANALYSIS).read_text())
    return [_face(item) for item in frames], [_crop(item) for item in frames]


def stitch(ctx: RunContext, work: SegmentWork) -> dict[str, Any]:
    """Join the segments' frames under the uploaded audio: ``video.mp4``."""
    ctx.stage("stitch")
    children = work.role.children
    results = [work.child_result(child) for child in children]
    parts = [work.child_output(child, SEGMENT_OUTPUT) for child in children]
    path = ctx.output_path(OUTPUT)
    try:
        written = join_segments(
            parts, path, audio_source=ctx.input_path("audio"), output_format="h264-mp4"
        )
    except MediaError as exc:
        path.unlink(missing_ok=True)
        raise PipelineError(exc.code, exc.message) from exc
    ctx.add_output(OUTPUT, "video/mp4")
    work.discard_children()
    ctx.progress(100.0, stage="stitch")
    first = results[0]
    return {
        "frames": written.frames,
        "frames_lip_synced": sum(int(result.get("frames_lip_synced", 0)) for result in results),
        "fps": first.get("fps"),
        "duration_s": written.duration_s,
        "audio_duration_s": first.get("audio_duration_s"),
        "width": written.width,
        "height": written.height,
        "engine": first.get("engine"),
        "source_frames": first.get("source_frames"),
        "source_frames_with_face": first.get("source_frames_with_face"),
        "segments": len(children),
    }


def _analysis(faces: list[Face | None], crops: list[CropBox | None]) -> list[dict[str, Any] | None]:
    return [
        None
        if face is None
        else {
            "box": [face.box.left, face.box.top, face.box.right, face.box.bottom, face.box.score],
            "detected": list(face.box.detected) if face.box.detected else None,
            "points": face.points.tolist(),
            "crop": list(crop) if crop is not None else None,
        }
        for face, crop in zip(faces, crops, strict=True)
    ]


def _face(item: dict[str, Any] | None) -> Face | None:
    if item is None:
        return None
    left, top, right, bottom, score = item["box"]
    found = item["detected"]
    detected = (int(found[0]), int(found[1]), int(found[2]), int(found[3])) if found else None
    box = FaceBox(int(left), int(top), int(right), int(bottom), float(score), detected)
    return Face(box=box, points=np.asarray(item["points"], dtype=np.float32))


def _crop(item: dict[str, Any] | None) -> CropBox | None:
    if item is None or item["crop"] is None:
        return None
    x1, y1, x2, y2 = item["crop"]
    return (int(x1), int(y1), int(x2), int(y2))
