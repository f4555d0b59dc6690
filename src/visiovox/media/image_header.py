"""Read an image's declared width and height from its header, without decoding it.

The pixel cap must hold before any decoder runs: a 50-kilobyte PNG can declare
and inflate to gigapixels (a decompression bomb), and even opening a file with
FFmpeg may decode its first frame to learn its parameters. PNG, JPEG, WebP,
GIF and BMP are understood; a header that does not parse is ``invalid_media``.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from visiovox.media.errors import MediaError

# JPEG start-of-frame markers (baseline, progressive, lossless...), not DHT/JPG/DAC.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# A JPEG's SOF follows its metadata segments; EXIF thumbnails can take ~64 KiB.
_JPEG_SCAN_LIMIT = 1 << 20


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) the image at ``path`` declares."""
    with open(path, "rb") as handle:
        head = handle.read(32)
        try:
            size = _header_size(head, handle)
        except (struct.error, IndexError, ValueError) as exc:
            raise MediaError("invalid_media", "the image header is corrupt") from exc
    if size is None:
        raise MediaError("invalid_media", "the image header is corrupt or unsupported")
    return size


def _header_size(head: bytes, handle: BinaryIO) -> tuple[int, int] | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        width, height = struct.unpack(">II", head[16:24])
        return int(width), int(height)
    if head.startswith((b"GIF87a", b"GIF89a")):
        width, height = struct.unpack("<HH", head[6:10])
        return int(width), int(height)
    if head.startswith(b"BM"):
        width, height = struct.unpack("<ii", head[18:26])
        return abs(int(width)), abs(int(height))  # negative height: a top-down bitmap
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp_size(head)
    if head.startswith(b"\xff\xd8"):
        handle.seek(2)
        return _jpeg_size(handle)
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    return None


def _jpeg_size(handle: BinaryIO) -> tuple[int, int] | None:
    """Walk the JPEG's marker segments up to its start-of-frame."""
    while handle.tell() < _JPEG_SCAN_LIMIT:
        byte = handle.read(1)
        if not byte:
            return None
        if byte != b"\xff":
            continue
        marker = handle.read(1)
        while marker == b"\xff":  # fill bytes before a marker
            marker = handle.read(1)
        if not marker or marker[0] in (0xD8, 0x01) or 0xD0 <= marker[0] <= 0xD7:
            continue  # markers without a length
        length_bytes = handle.read(2)
        if len(length_bytes) < 2:
            return None
        length = int.from_bytes(length_bytes, "big")
        if marker[0] in _SOF_MARKERS:
            height, width = struct.unpack(">HH", handle.read(5)[1:5])
            return int(width), int(height)
        handle.seek(length - 2, 1)
    return None
