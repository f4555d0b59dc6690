"""Image sizes read from headers alone, and the pixel cap checked before any decoding."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from tests.unit.media.samples import IMAGE_WRITERS, write_image
from visiovox.media.errors import MediaError
from visiovox.media.image_header import image_size
from visiovox.media.probe import probe_media
from visiovox.pipelines.spec import MediaKind


@pytest.mark.parametrize("fmt", sorted(IMAGE_WRITERS))
def test_header_size_of_every_format(tmp_path: Path, fmt: str) -> None:
    path = write_image(tmp_path / f"picture.{fmt}", fmt=fmt, size=(40, 30))
    assert image_size(path) == (40, 30)


def png_bomb(path: Path, *, width: int, height: int) -> Path:
    """A tiny PNG declaring ``width``x``height`` grey pixels, all zeros, deflated."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = zlib.compress(b"\0" * (width + 1) * 64)  # only 64 rows: the file stays small
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows)
    path.write_bytes(data + chunk(b"IEND", b""))
    return path


def test_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    path = png_bomb(tmp_path / "bomb.png", width=60_000, height=60_000)
    assert path.stat().st_size < 100_000
    with pytest.raises(MediaError) as caught:
        probe_media(path, kind=MediaKind.IMAGE, max_pixels=40_000_000)
    assert caught.value.code == "too_large"
    assert "60000x60000" in caught.value.message


@pytest.mark.parametrize(
    "head",
    [b"\x89PNG\r\n\x1a\n" + b"\0" * 8, b"\xff\xd8\xff\xe0\x00", b"RIFF\0\0\0\0WEBPVP9 "],
    ids=["png-no-ihdr", "jpeg-cut", "webp-unknown"],
)
def test_corrupt_header_is_invalid(tmp_path: Path, head: bytes) -> None:
    path = tmp_path / "broken"
    path.write_bytes(head)
    with pytest.raises(MediaError) as caught:
        probe_media(path, kind=MediaKind.IMAGE, max_pixels=1_000)
    assert caught.value.code == "invalid_media"
