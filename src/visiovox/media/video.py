"""Stream a video through a per-frame transform into a new video, passing its audio through.

Frames are decoded, handed to ``transform`` as RGB arrays and encoded one at a
time, so memory stays flat whatever the length. Packets are read in file order
(video and audio interleaved); audio the output container takes as it is (MP4:
AAC, MP3, ALAC, AC-3; WebM: Opus, Vorbis) is copied packet for packet, anything
else re-encoded (AAC, or Opus for WebM). The output (``VIDEO_FORMATS``: H.264
MP4 by default, H.265 MP4, VP9 WebM) is yuv420p, so an odd width or height
loses its last pixel, at the input's average frame rate. A video over
``max_pixels`` per frame or ``max_frames`` frames is refused (``too_large``,
``too_long``): before any work when the header tells, else at the frame that
crosses the cap.
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
from visiovox.media.capped_open import open_capped
from visiovox.media.errors import MediaError

RGBFrame = npt.NDArray[np.uint8]
Transform = Callable[[int, RGBFrame], RGBFrame]
Progress = Callable[[int, int | None], None]

DEFAULT_RATE = Fraction(25)


@dataclass(frozen=True)
class VideoFormat:
    """An output container with its video encoder and how audio goes into it."""

    container: str
    codec: str
    options: dict[str, str]
    copy_audio: frozenset[str]
    audio_codec: str
    extension: str
    content_type: str
    codec_tag: str | None = None


_MP4_AUDIO = frozenset({"aac", "mp3", "alac", "ac3"})
VIDEO_FORMATS: dict[str, VideoFormat] = {
    "h264-mp4": VideoFormat(
        "mp4", "libx264", {"crf": "20", "preset": "veryfast"}, _MP4_AUDIO, "aac", "mp4", "video/mp4"
    ),
    # hvc1 is the tag Apple's players require for HEVC in MP4.
    "h265-mp4": VideoFormat(
        "mp4",
        "libx265",
        {"crf": "24", "preset": "veryfast", "x265-params": "log-level=error"},
        _MP4_AUDIO,
        "aac",
        "mp4",
        "video/mp4",
        codec_tag="hvc1",
    ),
    "vp9-webm": VideoFormat(
        "webm",
        "libvpx-vp9",
        {"crf": "32", "b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"},
        frozenset({"opus", "vorbis"}),
        "libopus",
        "webm",
        "video/webm",
    ),
}
DEFAULT_FORMAT = "h264-mp4"
# Opus takes only these rates; other input rates are resampled to 48 kHz.
OPUS_RATES = frozenset({8_000, 12_000, 16_000, 24_000, 48_000})


@dataclass(frozen=True)
class VideoResult:
    """What was written: frames, duration, and how the audio was carried."""

    frames: int
    duration_s: float
    width: int
    height: int
    audio: str | None  # "copied", the codec it was re-encoded to, or None (no audio track)


def map_video(
    source: Path,
    dest: Path,
    *,
    transform: Transform,
    progress: Progress | None = None,
    keep_audio: bool = True,
    output_format: str = DEFAULT_FORMAT,
    max_frames: int | None = None,
    max_pixels: int | None = None,
) -> VideoResult:
    """Write ``source`` to ``dest`` with every frame passed through ``transform``.

    ``output_format`` is a key of ``VIDEO_FORMATS``; ``max_frames`` and
    ``max_pixels`` (per frame) are caps, ``None`` for none.
    """
    fmt = video_format(output_format)
    caps = _Caps(frames=max_frames, pixels=max_pixels)
    try:
        with (
            open_capped(source, max_pixels=max_pixels) as src,
            av.open(str(dest), mode="w", format=fmt.container) as out,
        ):
            return _map(
                src,
                out,
                fmt,
                transform=transform,
                progress=progress,
                keep_audio=keep_audio,
                caps=caps,
            )
    except av.FFmpegError as exc:
        raise MediaError("invalid_media", f"cannot transcode the video: {exc}") from exc


@dataclass(frozen=True)
class _Caps:
    frames: int | None
    pixels: int | None

    def check_size(self, width: int, height: int) -> None:
        if self.pixels is not None and width * height > self.pixels:
            raise MediaError(
                "too_large",
                f"video frames of {width}x{height} exceed the cap of {self.pixels} pixels",
            )

    def check_frames(self, frames: int) -> None:
        if self.frames is not None and frames > self.frames:
            raise MediaError("too_long", f"the video has over {self.frames} frames (the cap)")


def video_format(name: str) -> VideoFormat:
    """The ``VIDEO_FORMATS`` entry ``name``, checked to have its encoder in this FFmpeg."""
    fmt = VIDEO_FORMATS.get(name)
    if fmt is None:
        known = ", ".join(VIDEO_FORMATS)
        raise MediaError("unsupported_format", f"unknown video format {name!r} (known: {known})")
    try:
        av.codec.Codec(fmt.codec, "w")
    except av.FFmpegError as exc:
        message = f"this build's FFmpeg has no {fmt.codec} encoder for {name}"
        raise MediaError("unsupported_format", message) from exc
    return fmt


def _map(
    src: InputContainer,
    out: OutputContainer,
    fmt: VideoFormat,
    *,
    transform: Transform,
    progress: Progress | None,
    keep_audio: bool,
    caps: _Caps,
) -> VideoResult:
    if not src.streams.video:
        raise MediaError("invalid_media", "the file has no video track")
    video_in = src.streams.video[0]
    rate = video_in.average_rate or DEFAULT_RATE
    caps.check_size(video_in.codec_context.width, video_in.codec_context.height)
    if video_in.frames:
        caps.check_frames(video_in.frames)
    total = video_in.frames or _estimated_frames(src, rate)
    video_out = video_output(out, video_in, fmt, rate=rate)
    width, height = video_out.width, video_out.height
    audio_in = src.streams.audio[0] if src.streams.audio and keep_audio else None
    audio_out, audio_mode = audio_stream(out, audio_in, fmt)
    index = 0
    streams = [video_in] if audio_in is None else [video_in, audio_in]
    for packet in src.demux(streams):
        if packet.stream is audio_in and audio_out is not None:
            pass_audio(out, packet, audio_out, copy=audio_mode == "copied")
            continue
        for frame in packet.decode():
            assert isinstance(frame, av.VideoFrame)
            caps.check_size(frame.width, frame.height)
            caps.check_frames(index + 1)
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
    if audio_out is not None and audio_mode != "copied":
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


def video_output(
    out: OutputContainer, video_in: VideoStream, fmt: VideoFormat, *, rate: Fraction
) -> VideoStream:
    """``fmt``'s video stream in ``out`` for ``video_in``'s frames: its size cut to even
    numbers (yuv420p), at ``rate``."""
    video_out = out.add_stream(fmt.codec, rate=rate, options=fmt.options)
    assert isinstance(video_out, VideoStream)
    video_out.width = video_in.codec_context.width // 2 * 2
    video_out.height = video_in.codec_context.height // 2 * 2
    video_out.pix_fmt = "yuv420p"
    if fmt.codec_tag is not None:
        video_out.codec_tag = fmt.codec_tag
    return video_out


def _estimated_frames(src: InputContainer, rate: Fraction) -> int | None:
    """Frames the container's duration implies, for progress when the stream has no count."""
    if src.duration is None:
        return None
    return max(1, round(src.duration / av.time_base * float(rate)))


def audio_stream(
    out: OutputContainer, audio_in: AudioStream | None, fmt: VideoFormat
) -> tuple[AudioStream | None, str | None]:
    """The output's audio stream for ``audio_in`` and how it is carried ("copied" or a codec)."""
    if audio_in is None:
        return None, None
    if audio_in.codec_context.name in fmt.copy_audio:
        copied = out.add_stream_from_template(audio_in)
        return copied, "copied"
    context = audio_in.codec_context
    rate = context.sample_rate
    if fmt.audio_codec == "libopus" and rate not in OPUS_RATES:
        rate = 48_000
    encoded = out.add_stream(fmt.audio_codec, rate=rate, layout=_named_layout(context.layout))
    assert isinstance(encoded, AudioStream)
    return encoded, fmt.audio_codec.removeprefix("lib")


def _named_layout(layout: av.AudioLayout) -> str:
    """A layout an encoder takes: a WAV's unordered "1 channels" is mono, "2 channels" stereo."""
    if layout.name.endswith(" channels"):
        return {1: "mono", 2: "stereo"}.get(layout.nb_channels, layout.name)
    return str(layout.name)


def pass_audio(
    out: OutputContainer, packet: av.Packet[Stream], stream: AudioStream, *, copy: bool
) -> None:
    """Mux one audio packet into ``stream``: as it is, or decoded and re-encoded."""
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
