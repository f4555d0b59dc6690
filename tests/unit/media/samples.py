"""Small media files made with PyAV for the media tests: tones, videos, images."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from visiovox.media.audio import AudioFormat, encode_audio

TONE_HZ = 440.0
RATE = 22_050


def tone(seconds: float, *, rate: int = RATE, hz: float = TONE_HZ) -> npt.NDArray[np.float32]:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def write_tone(path: Path, *, fmt: AudioFormat, seconds: float = 2.0) -> Path:
    encode_audio(tone(seconds), sample_rate=RATE, fmt=fmt, path=path)
    return path


def write_video(
    path: Path,
    *,
    container: str,
    codec: str,
    seconds: float = 1.0,
    with_audio: bool = True,
    size: tuple[int, int] = (64, 48),
) -> Path:
    """A moving gradient at 10 fps, with a 440 Hz AAC/Opus track when ``with_audio``."""
    fps = 10
    with av.open(str(path), mode="w", format=container) as out:
        video = out.add_stream(codec, rate=fps)
        assert isinstance(video, av.VideoStream)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        audio: av.AudioStream | None = None
        if with_audio:
            audio_codec = "libopus" if container in ("webm", "ogg") else "aac"
            added = out.add_stream(audio_codec, rate=48_000, layout="mono")
            assert isinstance(added, av.AudioStream)
            audio = added
        for index in range(int(seconds * fps)):
            pixels = np.full((size[1], size[0], 3), (index * 20) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if audio is not None:
            samples = tone(seconds, rate=48_000)[np.newaxis, :]
            sound = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            sound.sample_rate = 48_000
            sound.pts = 0
            sound.time_base = Fraction(1, 48_000)
            out.mux(audio.encode(sound))
            out.mux(audio.encode(None))
    return path


def write_m4a(path: Path, *, seconds: float = 1.0) -> Path:
    """AAC in an MP4 container with the iTunes audio brand (M4A)."""
    with av.open(str(path), mode="w", format="ipod") as out:
        audio = out.add_stream("aac", rate=48_000, layout="mono")
        assert isinstance(audio, av.AudioStream)
        frame = av.AudioFrame.from_ndarray(
            tone(seconds, rate=48_000)[np.newaxis, :], format="fltp", layout="mono"
        )
        frame.sample_rate = 48_000
        frame.pts = 0
        frame.time_base = Fraction(1, 48_000)
        out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    return path


# format -> (PyAV muxer, codec, pixel format)
IMAGE_WRITERS: dict[str, tuple[str, str, str]] = {
    "png": ("image2", "png", "rgb24"),
    "jpg": ("image2", "mjpeg", "yuvj420p"),
    "gif": ("gif", "gif", "rgb8"),
    "webp": ("webp", "libwebp", "yuv420p"),
    "bmp": ("image2", "bmp", "bgr24"),
}


def write_image(path: Path, *, fmt: str, size: tuple[int, int] = (40, 30)) -> Path:
    muxer, codec, pix_fmt = IMAGE_WRITERS[fmt]
    pixels = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    pixels[:, : size[0] // 2] = (200, 30, 30)
    with av.open(str(path), mode="w", format=muxer) as out:
        stream = out.add_stream(codec, rate=1)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = size
        stream.pix_fmt = pix_fmt
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format=pix_fmt)
        frame.pts = 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path
