"""Edit one segment of a video, and join the edited segments into one video.

``map_segment`` is ``map_video`` (``media/video.py``) for the frames of one
``Span`` (``media/video_cuts.py``): it seeks to the span's keyframe, hands the
frames before the span's start to ``warm`` (a tracker's warm-up; nothing is
written), edits and encodes the span's own frames with the output format's one
encoder and settings, and writes no audio. ``join_segments`` then copies the
segments' packets into one file, each segment's timestamps moved by the frames
before it (every segment starts with a keyframe and has the same encoder
settings, so nothing is decoded or encoded twice), and muxes the source's
audio once, copied or re-encoded exactly as ``map_video`` would, the two
interleaved by time. Frame count and duration are the single run's.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from av.container import InputContainer, OutputContainer

from visiovox.media._av import av
from visiovox.media.capped_open import open_capped
from visiovox.media.errors import MediaError
from visiovox.media.video import (
    DEFAULT_RATE,
    Progress,
    RGBFrame,
    Transform,
    VideoFormat,
    VideoResult,
    audio_stream,
    pass_audio,
    video_format,
    video_output,
)
from visiovox.media.video_cuts import Span

Warm = Callable[[RGBFrame], None]
TimedPacket = tuple[float, int, "av.Packet[Any]"]


def map_segment(
    source: Path,
    dest: Path,
    *,
    span: Span,
    transform: Transform,
    warm: Warm,
    progress: Progress | None = None,
    output_format: str,
    max_pixels: int | None = None,
) -> VideoResult:
    """Write frames ``[span.start, span.end)`` of ``source``, each through ``transform``."""
    fmt = video_format(output_format)
    try:
        with (
            open_capped(source, max_pixels=max_pixels) as src,
            av.open(str(dest), mode="w", format=fmt.container) as out,
        ):
            return _map_span(
                src, out, fmt, span=span, transform=transform, warm=warm, progress=progress
            )
    except av.FFmpegError as exc:
        raise MediaError("invalid_media", f"cannot transcode the video segment: {exc}") from exc


def _map_span(
    src: InputContainer,
    out: OutputContainer,
    fmt: VideoFormat,
    *,
    span: Span,
    transform: Transform,
    warm: Warm,
    progress: Progress | None,
) -> VideoResult:
    if not src.streams.video:
        raise MediaError("invalid_media", "the file has no video track")
    video_in = src.streams.video[0]
    rate = video_in.average_rate or DEFAULT_RATE
    video_out = video_output(out, video_in, fmt, rate=rate)
    width, height = video_out.width, video_out.height
    if span.seek > 0:
        src.seek(span.seek_pts, stream=video_in, backward=True, any_frame=False)
    written = 0
    for frame in src.decode(video_in):
        if frame.pts is None:
            raise MediaError("invalid_media", "a frame of the video has no timestamp")
        if frame.pts < span.warm_pts:
            continue
        if span.end_pts is not None and frame.pts >= span.end_pts:
            break
        pixels = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)[:height, :width]
        if frame.pts < span.start_pts:
            warm(pixels)
            continue
        result = av.VideoFrame.from_ndarray(
            np.ascontiguousarray(transform(span.start + written, pixels)), format="rgb24"
        )
        result.pts, result.time_base = written, 1 / Fraction(rate)
        out.mux(video_out.encode(result))
        written += 1
        if progress is not None:
            progress(written, span.frames)
    out.mux(video_out.encode(None))
    if written != span.frames:
        raise MediaError(
            "invalid_media",
            f"segment {span.index} decoded {written} frames where the video's index has "
            f"{span.frames}",
        )
    return VideoResult(
        frames=written,
        duration_s=round(written / float(rate), 3),
        width=width,
        height=height,
        audio=None,
    )


def join_segments(
    parts: list[Path],
    dest: Path,
    *,
    audio_source: Path | None,
    output_format: str,
) -> VideoResult:
    """Concatenate the video of ``parts`` (in order) into ``dest`` with ``audio_source``'s audio.

    ``audio_source`` None: no audio track (the job asked for none).
    """
    if not parts:
        raise ValueError("no segment to join")
    fmt = video_format(output_format)
    try:
        with ExitStack() as stack:
            inputs = [stack.enter_context(av.open(str(part))) for part in parts]
            out = stack.enter_context(av.open(str(dest), mode="w", format=fmt.container))
            src = None
            if audio_source is not None:
                src = stack.enter_context(open_capped(audio_source, max_pixels=None))
            return _join(inputs, out, fmt, audio_source=src)
    except av.FFmpegError as exc:
        raise MediaError("invalid_media", f"cannot join the video segments: {exc}") from exc


def _join(
    inputs: list[InputContainer],
    out: OutputContainer,
    fmt: VideoFormat,
    *,
    audio_source: InputContainer | None,
) -> VideoResult:
    first = inputs[0].streams.video[0]
    rate = first.average_rate or DEFAULT_RATE
    video_out = out.add_stream_from_template(first)
    audio_in = None
    if audio_source is not None and audio_source.streams.audio:
        audio_in = audio_source.streams.audio[0]
    audio_out, audio_mode = audio_stream(out, audio_in, fmt)
    counted = [0]
    streams: list[Iterator[TimedPacket]] = [_video_packets(inputs, rate, counted)]
    if audio_source is not None and audio_in is not None and audio_out is not None:
        streams.append(_audio_packets(audio_source, audio_in))
    for _at, order, packet in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
        if order == 0:
            packet.stream = video_out
            out.mux(packet)
        else:
            assert audio_out is not None
            pass_audio(out, packet, audio_out, copy=audio_mode == "copied")
    if audio_out is not None and audio_mode != "copied":
        out.mux(audio_out.encode(None))
    frames = counted[0]
    return VideoResult(
        frames=frames,
        duration_s=round(frames / float(rate), 3),
        width=first.codec_context.width,
        height=first.codec_context.height,
        audio=audio_mode,
    )


def _video_packets(
    inputs: list[InputContainer], rate: Fraction, counted: list[int]
) -> Iterator[TimedPacket]:
    """Every segment's video packets, their timestamps moved past the segments before."""
    for container in inputs:
        stream = container.streams.video[0]
        time_base = stream.time_base or Fraction(1, 90_000)
        offset = round(Fraction(counted[0]) / rate / time_base)
        for packet in container.demux(stream):
            if packet.dts is None or packet.pts is None:
                continue  # the demuxer's end-of-stream flush packet
            packet.pts += offset
            packet.dts += offset
            counted[0] += 1
            yield float(packet.dts * time_base), 0, packet


def _audio_packets(source: InputContainer, stream: av.AudioStream) -> Iterator[TimedPacket]:
    """The source's audio packets with the time each starts (for interleaving)."""
    time_base = stream.time_base or Fraction(1, 48_000)
    for packet in source.demux(stream):
        at = float(packet.dts * time_base) if packet.dts is not None else float("inf")
        yield at, 1, packet
