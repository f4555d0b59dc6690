"""Stream a video through a per-frame transform into an MP4, passing its audio through.

Frames are decoded, handed to ``transform`` as RGB arrays and encoded one at a
time, so memory stays flat whatever the length. Packets are read in file order
(video and audio interleaved); audio the MP4 muxer takes as it is (AAC, MP3,
ALAC, AC-3) is copied packet for packet, anything else re-encoded to AAC. The
output is H.264 (yuv420p, so an odd width or height loses its last pixel) at
the input's average frame rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.stream import Stream
from av.video.stream import VideoStream

from visiovox.media._av import av
from visiovox.media.errors import MediaError

RGBFrame = npt.NDArray[np.uint8]
Transform = Callable[[int, RGBFrame], RGBFrame]
Progress = Callable[[int, int | None], None]

COPY_AUDIO_CODECS = frozenset({"aac", "mp3", "alac", "ac3"})
VIDEO_CODEC = "libx264"
VIDEO_OPTIONS = {"crf": "20", "preset": "veryfast"}
DEFAULT_RATE = Fraction(25)


@dataclass(frozen=True)
class VideoResult:
    """What was written: frames, duration, and how the audio was carried."""

    frames: int
    duration_s: float
    width: int
    height: int
    audio: str | None  # "copied", "aac" (re-encoded) or None (no audio track)


def map_video(
    source: Path,
    dest: Path,
    *,
    transform: Transform,
    progress: Progress | None = None,
    keep_audio: bool = True,
) -> VideoResult:
    """Write ``source`` to ``dest`` (MP4) with every frame passed through ``transform``."""
    try:
        with av.open(str(source)) as src, av.open(str(dest), mode="w", format="mp4") as out:
            return _map(src, out, transform=transform, progress=progress, keep_audio=keep_audio)
    except av.FFmpegError as exc:
        raise MediaError("invalid_media", f"cannot transcode the video: {exc}") from exc


def _map(
    src: InputContainer,
    out: OutputContainer,
    *,
    transform: Transform,
    progress: Progress | None,
    keep_audio: bool,
) -> VideoResult:
    if not src.streams.video:
        raise MediaError("invalid_media", "the file has no video track")
    video_in = src.streams.video[0]
    rate = video_in.average_rate or DEFAULT_RATE
    width = video_in.codec_context.width // 2 * 2
    height = video_in.codec_context.height // 2 * 2
    video_out = out.add_stream(VIDEO_CODEC, rate=rate, options=VIDEO_OPTIONS)
    assert isinstance(video_out, VideoStream)
    video_out.width, video_out.height, video_out.pix_fmt = width, height, "yuv420p"
    audio_in = src.streams.audio[0] if src.streams.audio and keep_audio else None
    audio_out, audio_mode = _audio_stream(out, audio_in)
    total = video_in.frames or _estimated_frames(src, rate)
    index = 0
    streams = [video_in] if audio_in is None else [video_in, audio_in]
    for packet in src.demux(streams):
        if packet.stream is audio_in and audio_out is not None:
            _pass_audio(out, packet, audio_out, copy=audio_mode == "copied")
            continue
        for frame in packet.decode():
            assert isinstance(frame, av.VideoFrame)
            pixels = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)[:height, :width]
            result = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(transform(index, pixels)), format="rgb24"
            )
            result.pts, result.time_base = index, 1 / Fraction(rate)
            out.mux(video_out.encode(result))
            index += 1
            if progress is not None:
                progress(index, total)
    out.mux(video_out.encode(None))
    if audio_out is not None and audio_mode == "aac":
        out.mux(audio_out.encode(None))
    if index == 0:
        raise MediaError("invalid_media", "the video track holds no decodable frame")
    return VideoResult(
        frames=index,
        duration_s=round(index / float(rate), 3),
        width=width,
        height=height,
        audio=audio_mode,
    )


def _estimated_frames(src: InputContainer, rate: Fraction) -> int | None:
    """Frames the container's duration implies, for progress when the stream has no count."""
    if src.duration is None:
        return None
    return max(1, round(src.duration / av.time_base * float(rate)))


def _audio_stream(
    out: OutputContainer, audio_in: AudioStream | None
) -> tuple[AudioStream | None, str | None]:
    if audio_in is None:
        return None, None
    if audio_in.codec_context.name in COPY_AUDIO_CODECS:
        copied = out.add_stream_from_template(audio_in)
        return copied, "copied"
    context = audio_in.codec_context
    encoded = out.add_stream("aac", rate=context.sample_rate, layout=context.layout.name)
    assert isinstance(encoded, AudioStream)
    return encoded, "aac"


def _pass_audio(
    out: OutputContainer, packet: av.Packet[Stream], stream: AudioStream, *, copy: bool
) -> None:
    if copy:
        if packet.dts is None:
            return  # the demuxer's end-of-stream flush packet
        packet.stream = stream
        out.mux(packet)
        return
    for frame in packet.decode():
        assert isinstance(frame, av.AudioFrame)
        frame.pts = None
        out.mux(stream.encode(frame))
