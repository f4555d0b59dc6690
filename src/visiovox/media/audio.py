"""Decode any audio (or a video's audio track) to float32 samples and encode samples to files.

Everything runs in-process through PyAV; no ffmpeg binary is needed.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from visiovox.media._av import av
from visiovox.media.errors import MediaError

AudioFormat = Literal["wav", "mp3", "ogg", "flac", "aac", "pcm"]

AUDIO_FORMATS: tuple[AudioFormat, ...] = ("wav", "mp3", "ogg", "flac", "aac", "pcm")

AUDIO_CONTENT_TYPES: dict[AudioFormat, str] = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "aac": "audio/aac",
    "pcm": "audio/pcm",
}

AUDIO_EXTENSIONS: dict[AudioFormat, str] = {
    "wav": "wav",
    "mp3": "mp3",
    "ogg": "ogg",
    "flac": "flac",
    "aac": "aac",
    "pcm": "pcm",
}

Samples = npt.NDArray[np.float32]


class _Target:
    """How one format is written: container, codec, sample format, forced rate."""

    def __init__(
        self, *, container: str, codec: str, sample_format: str, rate: int | None = None
    ) -> None:
        self.container = container
        self.codec = codec
        self.sample_format = sample_format
        self.rate = rate


_TARGETS: dict[str, _Target] = {
    "wav": _Target(container="wav", codec="pcm_s16le", sample_format="s16"),
    "mp3": _Target(container="mp3", codec="libmp3lame", sample_format="fltp"),
    # Opus runs at 48 kHz internally; other rates would be resampled by libopus anyway.
    "ogg": _Target(container="ogg", codec="libopus", sample_format="flt", rate=48_000),
    "flac": _Target(container="flac", codec="flac", sample_format="s16"),
    "aac": _Target(container="adts", codec="aac", sample_format="fltp"),
}

# MP3 and AAC only take these rates; anything else goes to the nearest one above.
_CODEC_RATES: dict[str, tuple[int, ...]] = {
    "libmp3lame": (8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000),
    "aac": (8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 88_200, 96_000),
}

# Encoded in slices of this many seconds so a long input never becomes one huge frame.
_ENCODE_SLICE_S = 1


def decode_audio(path: Path, *, sample_rate: int = 16_000, mono: bool = True) -> Samples:
    """The first audio track of ``path`` as float32 in [-1, 1] at ``sample_rate``.

    Mono gives shape ``(n,)``; otherwise ``(channels, n)`` with the source's layout.
    """
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise MediaError("invalid_media", f"cannot open media: {exc}") from exc
    with container:
        if not container.streams.audio:
            raise MediaError("invalid_media", "the file has no audio track")
        stream = container.streams.audio[0]
        layout = "mono" if mono else stream.layout.name
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
        chunks: list[npt.NDArray[Any]] = []
        try:
            for frame in container.decode(stream):
                chunks.extend(f.to_ndarray() for f in resampler.resample(frame))
            chunks.extend(f.to_ndarray() for f in resampler.resample(None))
        except av.FFmpegError as exc:
            raise MediaError("invalid_media", f"cannot decode audio: {exc}") from exc
    channels = 1 if mono else stream.layout.nb_channels
    if chunks:
        samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    else:
        samples = np.zeros((channels, 0), dtype=np.float32)
    np.clip(samples, -1.0, 1.0, out=samples)
    return samples[0] if mono else samples


def encode_audio(
    samples: npt.NDArray[np.floating] | npt.NDArray[np.integer],
    *,
    sample_rate: int,
    fmt: AudioFormat,
    path: Path,
) -> int:
    """Write ``samples`` (float in [-1, 1], shape ``(n,)`` or ``(channels, n)``) as ``fmt``.

    ``pcm`` is raw signed 16-bit little-endian with no header (the OpenAI speech
    API's ``pcm``); ``aac`` is an ADTS stream; ``ogg`` is Opus at 48 kHz.
    Returns the sample rate written, which differs from ``sample_rate`` where the
    codec needs another (Opus: 48 kHz; MP3/AAC: their nearest supported rate).
    """
    planar = _as_planar_float(samples)
    if fmt == "pcm":
        path.write_bytes(_to_s16(planar).T.tobytes())
        return sample_rate
    target = _TARGETS.get(fmt)
    if target is None:
        raise MediaError("unsupported_format", f"cannot encode audio as {fmt!r}")
    return _encode(planar, sample_rate=sample_rate, target=target, path=path)


def _encode(planar: Samples, *, sample_rate: int, target: _Target, path: Path) -> int:
    channels = planar.shape[0]
    layout = "mono" if channels == 1 else "stereo"
    if channels > 2:
        raise MediaError("unsupported_format", f"cannot encode {channels} channels")
    out_rate = target.rate or _supported_rate(target.codec, sample_rate)
    with av.open(str(path), mode="w", format=target.container) as container:
        stream = container.add_stream(target.codec, rate=out_rate, layout=layout)
        assert isinstance(stream, av.AudioStream)
        stream.format = target.sample_format
        # The codec context resamples and re-frames to the codec's frame size on its own;
        # only the input frames' rate, layout and format need to be right.
        step = sample_rate * _ENCODE_SLICE_S
        for start in range(0, planar.shape[1], step):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(planar[:, start : start + step]), format="fltp", layout=layout
            )
            frame.sample_rate = sample_rate
            frame.pts = start
            frame.time_base = Fraction(1, sample_rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out_rate


def _supported_rate(codec: str, rate: int) -> int:
    rates = _CODEC_RATES.get(codec)
    if rates is None or rate in rates:
        return rate
    return next((r for r in rates if r >= rate), rates[-1])


def _as_planar_float(samples: npt.NDArray[np.floating] | npt.NDArray[np.integer]) -> Samples:
    array = np.asarray(samples)
    if np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.float32) / 32_768.0
    planar: Samples = array.astype(np.float32, copy=False)
    if planar.ndim == 1:
        planar = planar[np.newaxis, :]
    if planar.ndim != 2:
        raise ValueError(f"samples must be 1-D or (channels, n), got shape {planar.shape}")
    return np.clip(planar, -1.0, 1.0)


def _to_s16(planar: Samples) -> npt.NDArray[np.int16]:
    return np.round(planar * 32_767.0).astype("<i2")
