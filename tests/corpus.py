"""The bad-input corpus: broken, malicious and unspeakable inputs, made by the tests.

Every case the hostile-user run found, and the ones the suite tested before,
as bytes or text keyed by a name that says what is wrong with it. The sweep in
``tests/integration/test_corpus_sweep.py`` sends each to every endpoint and
pipeline that takes its kind.
"""

from __future__ import annotations

import io
import random
import struct
import wave
from pathlib import Path

import numpy as np

from tests import bombs
from tests.unit.media.samples import write_tone, write_video

FIXTURES = Path(__file__).parent / "fixtures"
INVISIBLE = "\u202e\u200b\ufeff\U0001f600"


def _noise(size: int, *, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _wav_header(*, channels: int, rate: int, data_size: int) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * 2 * max(channels, 1), 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", min(36 + data_size, 0xFFFF_FFFF))
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", data_size)
    )


def _jpeg_with_size(width: int, height: int) -> bytes:
    """A JPEG whose SOF0 declares ``width``x``height`` and which holds no image data."""
    sof = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9"


def tone_wav(seconds: float = 1.0) -> bytes:
    """A valid 16 kHz WAV of a 440 Hz tone (no speech in it)."""
    t = np.arange(int(seconds * 16_000)) / 16_000
    samples = (0.4 * 32_767 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def bad_images() -> dict[str, bytes]:
    """Images a decoder must never be handed, or cannot read."""
    jpeg = (FIXTURES / "grace_hopper.jpg").read_bytes()
    png = (FIXTURES / "astronaut.png").read_bytes()
    small_gif = bombs.gif(screen=(32, 32), images=((32, 32),))
    return {
        "webp-1x1-canvas-around-13000": bombs.webp_canvas_around(
            canvas=(1, 1), frame=(13_000, 13_000)
        ),
        "webp-1x1-canvas-around-4000": bombs.webp_canvas_around(
            canvas=(1, 1), frame=(4_000, 4_000)
        ),
        "webp-canvas-smaller-than-frame": bombs.webp_canvas_around(
            canvas=(64, 64), frame=(128, 128)
        ),
        "webp-animation-frame-13000": bombs.webp_animation(canvas=(1, 1), frame=(13_000, 13_000)),
        "gif-1x1-screen-30000-image": bombs.gif(screen=(1, 1), images=((30_000, 30_000),)),
        "gif-cut-in-its-header": small_gif[:20],
        "gif-without-pixels": small_gif,
        "gif-bad-lzw": bombs.gif(screen=(32, 32), images=((32, 32),), lzw=b"\xff\xff\xff"),
        "gif-frame-outside-screen": bombs.gif(screen=(16, 16), images=((16, 16), (64, 64))),
        "apng-frame-over-ihdr": bombs.apng(size=(32, 32), frame=(20_000, 20_000)),
        "png-bad-crc": bombs.png_with_bad_crc(64, 64),
        "bmp-with-h264-tail": bombs.bmp_with_h264_tail(2_000),
        "png-100000-square-ihdr": bombs.PNG_SIGNATURE
        + bombs.png_ihdr(100_000, 100_000)
        + bombs.png_chunk(b"IEND", b""),
        "png-truncated": png[: len(png) // 3],
        "jpeg-truncated": jpeg[:2_000],
        "jpeg-65000-square-sof": _jpeg_with_size(65_000, 65_000),
        "noise": _noise(5_000, seed=1),
        "text": b"not an image at all\n" * 50,
        "empty": b"",
    }


def _cut_in_half(path: Path) -> bytes:
    data = path.read_bytes()
    return data[: len(data) // 2]


def bad_videos(folder: Path) -> dict[str, bytes]:
    """Videos that are cut short or hide a huge frame behind a small header."""
    return {
        "avi-8000-square-png-frame-behind-16x16-header": bombs.avi_of_png(
            8_000, 8_000, declared=(16, 16)
        ),
        "mp4-cut-in-half": _cut_in_half(
            write_video(folder / "clip.mp4", container="mp4", codec="libx264", seconds=2.0)
        ),
        "webm-cut-in-half": _cut_in_half(
            write_video(folder / "clip.webm", container="webm", codec="libvpx-vp9", seconds=2.0)
        ),
    }


def bad_audio(folder: Path) -> dict[str, bytes]:
    """Audio (and audio-looking) files that are broken or lie about their size."""
    wav = tone_wav(1.0)
    return {
        "mp3-cut-in-half": _cut_in_half(write_tone(folder / "tone.mp3", fmt="mp3", seconds=2.0)),
        "wav-declares-4-gb": _wav_header(channels=1, rate=16_000, data_size=0xFFFF_FFF0)
        + bytes(3_200),
        "wav-zero-channels": _wav_header(channels=0, rate=16_000, data_size=3_200) + bytes(3_200),
        "wav-zero-rate": _wav_header(channels=1, rate=0, data_size=3_200) + bytes(3_200),
        "wav-truncated-header": wav[:30],
        "ogg-magic-then-noise": b"OggS" + _noise(4_000, seed=2),
        "webm-magic-then-noise": b"\x1a\x45\xdf\xa3" + _noise(4_000, seed=3),
        "mp4-box-then-noise": b"\x00\x00\x00\x18ftypisom" + _noise(4_000, seed=4),
        "mp3-sync-then-noise": b"\xff\xfb\x90\x00" + _noise(4_000, seed=5),
        "noise": _noise(5_000, seed=6),
        "text": b"This is not audio at all, just words.\n" * 20,
        "empty": b"",
    }


def unspeakable_texts() -> dict[str, str]:
    """Texts with nothing to say, or too much."""
    return {
        "invisible-format-characters": INVISIBLE * 1_000,
        "control-characters": "\x00\x01\x02\x1b" * 100,
        "whitespace": " \n\t " * 100,
        "empty": "",
        "over-4096-characters": "a" * 4_097,
    }
