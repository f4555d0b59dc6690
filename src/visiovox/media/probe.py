"""Check an upload is real, complete media and read its duration and dimensions.

Audio is decoded in full (a few hundred times faster than real time), so a file
that declares more than it holds is caught as ``truncated_media``. Video is
demuxed in full but only its first frame is decoded; images only their one frame,
and only after every size their headers declare passed the pixel cap
(``check_image``), with the FFmpeg demuxer of the format that was checked: left
to guess, FFmpeg may read a BMP with odd reserved bytes as AMR audio, or a
polyglot as a format whose sizes nobody checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from av.audio.stream import AudioStream
from av.container import InputContainer
from av.stream import Stream

from visiovox.media._av import av
from visiovox.media.capped_open import open_capped
from visiovox.media.errors import MediaError
from visiovox.media.image_header import check_image
from visiovox.media.kinds import MediaKind

# Decoded audio shorter than this share of the declared duration, and by more
# than TRUNCATION_MIN_GAP_S, is truncated; encoder padding stays well inside it.
TRUNCATION_RATIO = 0.9
TRUNCATION_MIN_GAP_S = 0.5
# The FFmpeg demuxer of each format ``check_image`` understands.
IMAGE_DEMUXERS = {
    "png": "png_pipe",
    "apng": "apng",
    "jpeg": "jpeg_pipe",
    "gif": "gif",
    "webp": "webp_pipe",
    "bmp": "bmp_pipe",
}


@dataclass(frozen=True)
class MediaInfo:
    """What probing found. ``kind`` may narrow an ftyp/EBML "video" to audio-only."""

    kind: MediaKind
    duration_s: float | None
    has_audio: bool
    has_video: bool
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    codec: str | None = None


def probe_media(
    path: Path,
    *,
    kind: MediaKind,
    max_duration_s: float | None = None,
    max_pixels: int | None = None,
) -> MediaInfo:
    """Open, validate and measure the file at ``path`` sniffed as ``kind``.

    Raises ``MediaError`` with ``invalid_media``, ``truncated_media``, ``too_long``
    or ``too_large``.
    """
    demuxer: str | None = None
    if kind is MediaKind.IMAGE:
        # Before FFmpeg opens it: opening may already decode a decompression bomb.
        demuxer = IMAGE_DEMUXERS[check_image(path, max_pixels=max_pixels).format]
    try:
        container = open_capped(path, max_pixels=max_pixels, container_format=demuxer)
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise MediaError("invalid_media", f"cannot open media: {_reason(exc)}") from exc
    with container:
        try:
            if kind is MediaKind.IMAGE:
                return _probe_image(container, max_pixels=max_pixels)
            if kind is MediaKind.VIDEO and container.streams.video:
                return _probe_video(container, max_duration_s=max_duration_s, max_pixels=max_pixels)
            if kind in (MediaKind.AUDIO, MediaKind.VIDEO):
                return _probe_audio(container, path=path, max_duration_s=max_duration_s)
        except av.FFmpegError as exc:
            raise MediaError("invalid_media", f"cannot decode media: {_reason(exc)}") from exc
    raise MediaError("invalid_media", f"cannot probe {kind.value} files")


def _probe_audio(
    container: InputContainer, *, path: Path, max_duration_s: float | None
) -> MediaInfo:
    if not container.streams.audio:
        raise MediaError("invalid_media", "the file has no audio track")
    stream = container.streams.audio[0]
    declared = _declared_duration(container, stream)
    _check_duration(declared, max_duration_s)
    decoded, damaged_at = _decode_duration(container, stream, max_duration_s=max_duration_s)
    if decoded <= 0.0:
        raise MediaError("invalid_media", "the audio track holds no decodable audio")
    if damaged_at is not None and not damaged_at.at_end:
        raise MediaError("invalid_media", f"audio is corrupt after {damaged_at.after_s:.1f}s")
    if damaged_at is not None:
        raise MediaError(
            "truncated_media", f"the audio stops in a partial packet after {decoded:.1f}s"
        )
    if container.format.name == "wav":
        # FFmpeg clamps a WAV's data size to the file, so it never looks short: read the header.
        declared = _wav_declared_duration(path, decoded_s=decoded) or declared
    if _is_truncated(decoded, declared):
        raise MediaError(
            "truncated_media",
            f"the file declares {_seconds(declared)} of audio but only {decoded:.1f}s decode",
        )
    return MediaInfo(
        kind=MediaKind.AUDIO,
        duration_s=round(decoded, 3),
        has_audio=True,
        has_video=bool(container.streams.video),
        sample_rate=stream.codec_context.sample_rate,
        channels=stream.codec_context.channels,
        codec=stream.codec_context.name,
    )


@dataclass(frozen=True)
class _Damage:
    """Where decoding first failed, and whether that was the stream's last packet."""

    after_s: float
    at_end: bool


def _decode_duration(
    container: InputContainer, stream: AudioStream, *, max_duration_s: float | None
) -> tuple[float, _Damage | None]:
    """Seconds of audio that decode, and the first damaged packet if any.

    A cut file usually ends in a partial packet that fails to decode: damage in
    the last packet means truncation, damage before it a corrupt file.
    """
    decoded = 0.0
    damage: _Damage | None = None
    for packet in container.demux(stream):
        if damage is not None and packet.size:
            return decoded, _Damage(after_s=damage.after_s, at_end=False)
        try:
            frames = packet.decode()
        except av.FFmpegError:
            damage = damage or _Damage(after_s=decoded, at_end=True)
            continue
        for frame in frames:
            decoded += frame.samples / frame.sample_rate
        _check_duration(decoded, max_duration_s)
    return decoded, damage


def _probe_video(
    container: InputContainer, *, max_duration_s: float | None, max_pixels: int | None
) -> MediaInfo:
    stream = container.streams.video[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    _check_pixels(width, height, max_pixels)
    declared = _declared_duration(container, stream)
    _check_duration(declared, max_duration_s)
    if next(iter(container.decode(stream)), None) is None:
        raise MediaError("invalid_media", "the video track holds no decodable frame")
    container.seek(0)
    demuxed = _demuxed_end(container, stream)
    _check_duration(demuxed, max_duration_s)
    if demuxed is not None and _is_truncated(demuxed, declared):
        raise MediaError(
            "truncated_media",
            f"the file declares {declared:.1f}s of video but only {demuxed:.1f}s are present",
        )
    audio = container.streams.audio[0] if container.streams.audio else None
    return MediaInfo(
        kind=MediaKind.VIDEO,
        duration_s=declared if declared is not None else demuxed,
        has_audio=audio is not None,
        has_video=True,
        width=width,
        height=height,
        sample_rate=audio.codec_context.sample_rate if audio is not None else None,
        channels=audio.codec_context.channels if audio is not None else None,
        codec=stream.codec_context.name,
    )


def _probe_image(container: InputContainer, *, max_pixels: int | None) -> MediaInfo:
    if not container.streams.video:
        raise MediaError("invalid_media", "the file holds no image")
    stream = container.streams.video[0]
    _check_pixels(stream.codec_context.width, stream.codec_context.height, max_pixels)
    frame = next(iter(container.decode(stream)), None)
    if frame is None:
        raise MediaError("invalid_media", "the image cannot be decoded")
    return MediaInfo(
        kind=MediaKind.IMAGE,
        duration_s=None,
        has_audio=False,
        has_video=False,
        width=frame.width,
        height=frame.height,
        codec=stream.codec_context.name,
    )


def _declared_duration(container: InputContainer, stream: Stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / av.time_base
    return None


def _demuxed_end(container: InputContainer, stream: Stream) -> float | None:
    """Where the last packet of ``stream`` ends, from its timestamps, without decoding."""
    end: float | None = None
    time_base, start_time = stream.time_base, stream.start_time
    start = float(start_time * time_base) if start_time is not None and time_base else 0.0
    for packet in container.demux(stream):
        if packet.pts is None or packet.time_base is None:
            continue
        packet_end = float((packet.pts + (packet.duration or 0)) * packet.time_base) - start
        end = packet_end if end is None else max(end, packet_end)
    return end


def _wav_declared_duration(path: Path, *, decoded_s: float) -> float | None:
    """The duration a WAV's ``data`` chunk size declares, scaled from what decoded."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        if handle.read(12)[8:12] != b"WAVE":
            return None
        while True:
            header = handle.read(8)
            if len(header) < 8:
                return None
            chunk_size = int.from_bytes(header[4:8], "little")
            if header[:4] == b"data":
                break
            handle.seek(chunk_size + (chunk_size & 1), 1)
        available = size - handle.tell()
    # Streaming writers leave the size at 0 or 0xFFFFFFFF: nothing is declared then.
    if chunk_size in (0, 0xFFFFFFFF) or available <= 0 or chunk_size <= available:
        return None
    return decoded_s * chunk_size / available


def _seconds(value: float | None) -> str:
    return "an unknown length" if value is None else f"{value:.1f}s"


def _is_truncated(actual: float, declared: float | None) -> bool:
    if declared is None:
        return False
    return actual < TRUNCATION_RATIO * declared and declared - actual > TRUNCATION_MIN_GAP_S


def _check_duration(duration_s: float | None, max_duration_s: float | None) -> None:
    if duration_s is not None and max_duration_s is not None and duration_s > max_duration_s:
        raise MediaError(
            "too_long", f"media lasts over {max_duration_s:g}s (at least {duration_s:.1f}s)"
        )


def _check_pixels(width: int, height: int, max_pixels: int | None) -> None:
    if width <= 0 or height <= 0:
        # Also what a probe capped by ``open_capped`` reports for frames over the cap.
        raise MediaError("invalid_media", "the picture's size cannot be read within the pixel cap")
    if max_pixels is not None and width * height > max_pixels:
        raise MediaError("too_large", f"{width}x{height} is over the limit of {max_pixels} pixels")


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
