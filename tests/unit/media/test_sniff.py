"""The type of a file comes from its first bytes, whatever its name says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.unit.media.samples import IMAGE_WRITERS, write_image, write_m4a, write_tone, write_video
from visiovox.media.kinds import MediaKind
from visiovox.media.sniff import sniff_bytes, sniff_file


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [
        ("wav", "audio/wav", "wav"),
        ("mp3", "audio/mpeg", "mp3"),
        ("ogg", "audio/ogg", "ogg"),
        ("flac", "audio/flac", "flac"),
        ("aac", "audio/aac", "aac"),
    ],
)
def test_audio_formats(tmp_path: Path, fmt: str, content_type: str, extension: str) -> None:
    # A misleading name: sniffing must not look at it.
    path = write_tone(tmp_path / "upload.bin", fmt=fmt, seconds=0.5)
    sniffed = sniff_file(path)
    assert sniffed is not None
    assert (sniffed.kind, sniffed.content_type, sniffed.extension) == (
        MediaKind.AUDIO,
        content_type,
        extension,
    )


def test_m4a_brand_is_audio(tmp_path: Path) -> None:
    sniffed = sniff_file(write_m4a(tmp_path / "voice.mp4"))
    assert sniffed is not None
    assert (sniffed.kind, sniffed.content_type, sniffed.extension) == (
        MediaKind.AUDIO,
        "audio/mp4",
        "m4a",
    )


@pytest.mark.parametrize(
    ("container", "codec", "content_type", "extension"),
    [
        ("mp4", "mpeg4", "video/mp4", "mp4"),
        ("mov", "mpeg4", "video/quicktime", "mov"),
        ("webm", "libvpx", "video/webm", "webm"),
        ("matroska", "mpeg4", "video/x-matroska", "mkv"),
    ],
)
def test_video_formats(
    tmp_path: Path, container: str, codec: str, content_type: str, extension: str
) -> None:
    path = write_video(tmp_path / "clip.dat", container=container, codec=codec, seconds=0.3)
    sniffed = sniff_file(path)
    assert sniffed is not None
    assert (sniffed.kind, sniffed.content_type, sniffed.extension) == (
        MediaKind.VIDEO,
        content_type,
        extension,
    )


@pytest.mark.parametrize("fmt", sorted(IMAGE_WRITERS))
def test_image_formats(tmp_path: Path, fmt: str) -> None:
    sniffed = sniff_file(write_image(tmp_path / "picture", fmt=fmt))
    assert sniffed is not None
    assert sniffed.kind is MediaKind.IMAGE
    assert sniffed.extension == fmt
    assert sniffed.content_type == {"jpg": "image/jpeg"}.get(fmt, f"image/{fmt}")


def test_text_named_wav_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "speech.wav"
    path.write_text("RIFF? no, just a note about a WAVE file.\n" * 10)
    assert sniff_file(path) is None


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"BM but not a bitmap, only text",
        b"\xff\xfe\x00\x00 utf-32 text",
        b"PK\x03\x04 a zip archive",
        b"%PDF-1.7",
        b"RIFF\x00\x00\x00\x00ABCD",
    ],
)
def test_lookalikes_are_unknown(head: bytes) -> None:
    assert sniff_bytes(head) is None


def test_random_bytes_are_unknown(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp3"
    # Start with a zero byte so no random sync word can make it look like MPEG audio.
    path.write_bytes(b"\x00" + os.urandom(4095))
    assert sniff_file(path) is None
