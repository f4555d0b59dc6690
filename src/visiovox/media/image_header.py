"""Check every size an image declares, from its headers alone, before anything decodes it.

A decoder allocates what a file declares: a 50 KB PNG can declare gigapixels,
a 46-byte lossless WebP a 13000x13000 frame (decompression bombs), and merely
opening a file with FFmpeg decodes its first frame. So the pixel cap must hold
for every size a decoder may use, not only the first one: a WebP's VP8X canvas
and each VP8/VP8L bitstream (ANMF frames of an animation), a GIF's logical
screen and each image descriptor, a PNG's IHDR and each APNG fcTL, each JPEG
SOFn, a BMP's header. A frame that does not fit its canvas is refused as well:
FFmpeg decodes a WebP frame at the frame's size whatever the canvas says, and
OpenCV refuses such files, so they could only fail later on a worker.

``too_large`` is a size over the cap; ``invalid_media`` a header that does not
parse, a frame outside its canvas, or a format that is not PNG, JPEG, GIF,
WebP or BMP.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

from visiovox.media.errors import MediaError

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers: SOF0-SOF15 but DHT, JPG and DAC, plus JPEG-LS (SOF55).
_SOF_MARKERS = (frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}) | {0xF7}
# Markers without a length: TEM, RST0-7, SOI; 0x00 is a stuffed 0xFF in scan data.
_JPEG_BARE_MARKERS = frozenset({0x00, 0x01, 0xD8, *range(0xD0, 0xD8)})
_GIF_TRAILER, _GIF_EXTENSION, _GIF_IMAGE = 0x3B, 0x21, 0x2C
# Chunks, blocks and markers one walk may visit. A 200 MB GIF of the usual 255-byte
# sub-blocks has 800 000; a file of empty chunks would make the walk take minutes.
MAX_STRUCTURES = 4_000_000


@dataclass(frozen=True)
class ImageHeader:
    """What an image declares: its format (png, apng, jpeg, gif, webp, bmp) and canvas."""

    format: str
    width: int
    height: int


def check_image(path: Path, *, max_pixels: int | None) -> ImageHeader:
    """The header of the image at ``path``, once every size in it passed the checks.

    ``max_pixels`` None checks that frames fit their canvas but caps nothing.
    """
    try:
        with (
            open(path, "rb") as handle,
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data,
        ):
            return _parse(data, _Walk(max_pixels=max_pixels))
    except (struct.error, IndexError, ValueError) as exc:  # ValueError: mmap of an empty file
        raise MediaError("invalid_media", "the image header is corrupt or cut short") from exc


def check_image_bytes(data: bytes, *, max_pixels: int | None) -> ImageHeader:
    """The header of the image held in ``data`` (a live frame), checked as ``check_image`` does."""
    if not data:
        raise MediaError("invalid_media", "the image is empty")
    try:
        with mmap.mmap(-1, len(data)) as view:
            view.write(data)
            return _parse(view, _Walk(max_pixels=max_pixels))
    except (struct.error, IndexError, ValueError) as exc:
        raise MediaError("invalid_media", "the image header is corrupt or cut short") from exc


class _Walk:
    """One walk of a file: checks each size as it is met, counts the structures visited.

    A size is checked against the pixel cap first, then a frame for its fit in
    the canvas: a bomb is ``too_large`` whatever canvas it claims.
    """

    def __init__(self, *, max_pixels: int | None) -> None:
        self.max_pixels = max_pixels
        self.width = 0
        self.height = 0
        self.steps_left = MAX_STRUCTURES

    def step(self, what: str, *, count: int = 1) -> None:
        self.steps_left -= count
        if self.steps_left < 0:
            raise MediaError("invalid_media", f"the image has over {MAX_STRUCTURES} {what}")

    def canvas(self, width: int, height: int, *, what: str) -> None:
        self._cap(width, height, what=what)
        self.width, self.height = width, height

    def frame(
        self,
        width: int,
        height: int,
        *,
        what: str,
        left: int = 0,
        top: int = 0,
        within: tuple[int, int] | None = None,
        exact: bool = False,
    ) -> None:
        """A frame at (``left``, ``top``) must lie inside the canvas (or ``within``)."""
        self._cap(width, height, what=what)
        area_width, area_height = within or (self.width, self.height)
        fits = left + width <= area_width and top + height <= area_height
        if not fits or (exact and (width, height) != (area_width, area_height)):
            raise MediaError(
                "invalid_media",
                f"the {what} ({width}x{height} at {left},{top}) does not match its "
                f"{area_width}x{area_height} canvas",
            )

    def _cap(self, width: int, height: int, *, what: str) -> None:
        if width <= 0 or height <= 0:
            raise MediaError("invalid_media", f"the {what} declares no size")
        if self.max_pixels is not None and width * height > self.max_pixels:
            raise MediaError(
                "too_large",
                f"the {what} is {width}x{height}, over the limit of {self.max_pixels} pixels",
            )


def _parse(data: mmap.mmap, walk: _Walk) -> ImageHeader:
    if data[:8] == _PNG_SIGNATURE:
        return _png(data, walk)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(data, walk)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data, walk)
    if data[:2] == b"\xff\xd8":
        return _jpeg(data, walk)
    if data[:2] == b"BM":
        return _bmp(data, walk)
    raise MediaError("invalid_media", "the file is not a PNG, JPEG, GIF, WebP or BMP image")


def _png(data: mmap.mmap, walk: _Walk) -> ImageHeader:
    length, kind, width, height = struct.unpack(">I4sII", data[8:24])
    if (length, kind) != (13, b"IHDR"):
        raise MediaError("invalid_media", "the PNG does not start with its IHDR chunk")
    walk.canvas(width, height, what="PNG image (IHDR)")
    animated = seen_data = False
    pos = 8 + 12 + length
    while True:
        walk.step("PNG chunks")
        if pos + 8 > len(data):
            break  # cut short: decoders stop here too
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IEND":
            break
        # An APNG's acTL comes before its first IDAT (FFmpeg's apng probe asks the same).
        animated = animated or (kind == b"acTL" and not seen_data)
        seen_data = seen_data or kind == b"IDAT"
        if kind == b"fcTL":
            width, height, left, top = struct.unpack(">IIII", data[pos + 12 : pos + 28])
            walk.frame(width, height, left=left, top=top, what="APNG frame (fcTL)")
        pos += 12 + length
    return ImageHeader("apng" if animated else "png", walk.width, walk.height)


def _gif(data: mmap.mmap, walk: _Walk) -> ImageHeader:
    """Walk the blocks: extensions and images, each image's data in sub-blocks."""
    width, height, flags = struct.unpack("<HHB", data[6:11])
    walk.canvas(width, height, what="GIF logical screen")
    pos = 13 + _gif_color_table(flags)
    images = 0
    while pos < len(data) and data[pos] != _GIF_TRAILER:
        block = data[pos]
        if block == _GIF_EXTENSION:
            pos = pos + 2  # introducer, label
        elif block == _GIF_IMAGE:
            descriptor = data[pos + 1 : pos + 10]
            if len(descriptor) < 9:
                break  # cut short: decoders stop here too
            left, top, width, height, flags = struct.unpack("<HHHHB", descriptor)
            walk.frame(width, height, left=left, top=top, what="GIF image descriptor")
            images += 1
            pos = pos + 10 + _gif_color_table(flags) + 1  # + LZW minimum code size
        else:
            raise MediaError("invalid_media", f"unknown GIF block 0x{block:02x} at byte {pos}")
        pos = _gif_sub_blocks(data, pos, walk=walk)
    if images == 0:
        raise MediaError("invalid_media", "the GIF holds no image")
    return ImageHeader("gif", walk.width, walk.height)


def _gif_color_table(flags: int) -> int:
    return 3 * (2 << (flags & 0x07)) if flags & 0x80 else 0


def _gif_sub_blocks(data: mmap.mmap, pos: int, *, walk: _Walk) -> int:
    """Where a chain of sub-blocks (a length byte, that many bytes; 0 ends) stops."""
    end, limit = len(data), walk.steps_left
    steps = 0
    while pos < end and steps <= limit:  # the hot loop of a GIF walk: no call per sub-block
        steps += 1
        size = data[pos]
        pos += size + 1
        if size == 0:
            break
    walk.step("GIF sub-blocks", count=steps)
    return pos


def _webp(data: mmap.mmap, walk: _Walk) -> ImageHeader:
    (riff_size,) = struct.unpack("<I", data[4:8])
    end = min(len(data), 8 + riff_size)
    kind, size = struct.unpack("<4sI", data[12:20])
    if kind != b"VP8X":
        width, height = _webp_bitstream_size(kind, data[20:30])
        walk.canvas(width, height, what=_webp_bitstream_name(kind))
        return ImageHeader("webp", width, height)
    if size < 10:
        raise MediaError("invalid_media", "the WebP VP8X chunk is cut short")
    width, height = _u24(data, 24) + 1, _u24(data, 27) + 1
    walk.canvas(width, height, what="WebP canvas (VP8X)")
    _webp_chunks(data, 20 + size + (size & 1), end=end, walk=walk)
    return ImageHeader("webp", width, height)


def _webp_chunks(data: mmap.mmap, pos: int, *, end: int, walk: _Walk) -> None:
    """The chunks after VP8X: a still's bitstream fills the canvas, ANMF frames fit in it."""
    while pos + 8 <= end:
        walk.step("WebP chunks")
        kind, size = struct.unpack("<4sI", data[pos : pos + 8])
        payload = pos + 8
        if kind in (b"VP8 ", b"VP8L"):
            width, height = _webp_bitstream_size(kind, data[payload : payload + 10])
            walk.frame(width, height, what=_webp_bitstream_name(kind), exact=True)
        elif kind == b"ANMF":
            _webp_frame(data, payload, end=min(end, payload + size), walk=walk)
        pos = payload + size + (size & 1)


def _webp_frame(data: mmap.mmap, pos: int, *, end: int, walk: _Walk) -> None:
    """An ANMF frame: its rectangle on the canvas, then the bitstream that fills it."""
    left, top = 2 * _u24(data, pos), 2 * _u24(data, pos + 3)
    width, height = _u24(data, pos + 6) + 1, _u24(data, pos + 9) + 1
    walk.frame(width, height, left=left, top=top, what="WebP animation frame (ANMF)")
    pos += 16
    while pos + 8 <= end:  # an ALPH chunk may come before the bitstream
        walk.step("WebP chunks")
        kind, size = struct.unpack("<4sI", data[pos : pos + 8])
        if kind in (b"VP8 ", b"VP8L"):
            inner = _webp_bitstream_size(kind, data[pos + 8 : pos + 18])
            what = f"{_webp_bitstream_name(kind)} of an ANMF frame"
            walk.frame(*inner, what=what, within=(width, height), exact=True)
        pos += 8 + size + (size & 1)


def _webp_bitstream_size(kind: bytes, head: bytes) -> tuple[int, int]:
    """(width, height) of a VP8 (lossy key frame) or VP8L (lossless) bitstream."""
    if kind == b"VP8 ":
        if head[0] & 0x01 or head[3:6] != b"\x9d\x01\x2a":
            raise MediaError("invalid_media", "the WebP VP8 bitstream is not a key frame")
        width, height = struct.unpack("<HH", head[6:10])
        return width & 0x3FFF, height & 0x3FFF  # the top two bits are an upscaling hint
    if kind == b"VP8L":
        if head[0] != 0x2F:
            raise MediaError("invalid_media", "the WebP VP8L bitstream has no signature")
        (bits,) = struct.unpack("<I", head[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    raise MediaError("invalid_media", f"unknown WebP image chunk {kind!r}")


def _webp_bitstream_name(kind: bytes) -> str:
    return f"WebP bitstream ({kind.decode('latin-1').strip()})"


def _u24(data: mmap.mmap, pos: int) -> int:
    (value,) = struct.unpack("<I", data[pos : pos + 3] + b"\0")
    return int(value)


def _jpeg(data: mmap.mmap, walk: _Walk) -> ImageHeader:
    """Walk the first image's markers to its EOI: segments by length, scan data by 0xFF."""
    pos, end = 2, len(data)
    while True:
        walk.step("JPEG markers")
        marker_at = data.find(b"\xff", pos)
        if marker_at < 0 or marker_at + 1 >= end:
            break  # cut short: decoders stop here too
        marker = data[marker_at + 1]
        if marker == 0xD9:  # EOI: what follows is not this image
            break
        if marker == 0xFF or marker in _JPEG_BARE_MARKERS:
            pos = marker_at + 1 if marker == 0xFF else marker_at + 2
            continue
        (length,) = struct.unpack(">H", data[marker_at + 2 : marker_at + 4])
        if marker in _SOF_MARKERS:
            height, width = struct.unpack(">HH", data[marker_at + 5 : marker_at + 9])
            if walk.width == 0:
                walk.canvas(width, height, what="JPEG frame (SOF)")
            else:
                walk.frame(width, height, what="second JPEG frame (SOF)", exact=True)
        pos = marker_at + 2 + length
    if walk.width == 0:
        raise MediaError("invalid_media", "the JPEG has no frame header (SOF)")
    return ImageHeader("jpeg", walk.width, walk.height)


def _bmp(data: mmap.mmap, walk: _Walk) -> ImageHeader:
    (header_size,) = struct.unpack("<I", data[14:18])
    if header_size == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        width, height = struct.unpack("<HH", data[18:22])
    else:
        width, height = struct.unpack("<ii", data[18:26])
        height = abs(height)  # negative: a top-down bitmap
    walk.canvas(width, height, what="BMP bitmap")
    return ImageHeader("bmp", width, height)
