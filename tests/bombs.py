"""Malicious and malformed images built byte by byte, for the header guard's tests.

Each builder returns a file's bytes: decompression bombs whose canvas or
screen declares 1x1 around a frame of thousands of pixels a side, APNG frames
larger than their IHDR, and files whose header is fine but whose body no
decoder can read. Nothing comes from outside the tests.
"""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    """A RIFF chunk: FourCC, little-endian size, payload padded to an even length."""
    return fourcc + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) & 1)


def webp(*chunks: bytes) -> bytes:
    """A RIFF/WEBP file of ``chunks``."""
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def vp8l(width: int, height: int) -> bytes:
    """A lossless bitstream of ``width``x``height`` transparent black pixels, in a few bytes.

    No transforms, no colour cache, and five one-symbol prefix codes: every
    pixel costs zero bits, so the decoder fills a whole frame from nothing.
    """
    fields = [
        (width - 1, 14),
        (height - 1, 14),
        (0, 1),  # alpha is used
        (0, 3),  # version
        (0, 1),  # no transform
        (0, 1),  # no colour cache
        (0, 1),  # no meta prefix codes
    ]
    for _code in range(5):  # green, red, blue, alpha, distance: one symbol each
        fields += [(1, 1), (0, 1), (0, 1), (0, 1)]  # simple, 1 symbol, 1-bit symbol 0
    bits = 0
    shift = 0
    for value, count in fields:
        bits |= value << shift
        shift += count
    return b"\x2f" + bits.to_bytes((shift + 7) // 8, "little")


def webp_lossless(width: int, height: int) -> bytes:
    """A simple lossless WebP of ``width``x``height`` in 44 bytes, which OpenCV decodes.

    Zero bytes pad the bitstream: libwebp refuses a file under 32 bytes.
    """
    return webp(riff_chunk(b"VP8L", vp8l(width, height) + bytes(16)))


def vp8x(width: int, height: int, *, animated: bool = False) -> bytes:
    """The VP8X chunk of an extended WebP declaring a ``width``x``height`` canvas."""
    flags = 0x02 if animated else 0x00
    size = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return riff_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + size)


def webp_canvas_around(*, canvas: tuple[int, int], frame: tuple[int, int]) -> bytes:
    """A still WebP whose VP8X canvas is ``canvas`` but whose VP8L frame is ``frame``."""
    return webp(vp8x(*canvas), riff_chunk(b"VP8L", vp8l(*frame)))


def webp_animation(*, canvas: tuple[int, int], frame: tuple[int, int]) -> bytes:
    """An animated WebP with one ANMF frame of ``frame`` size on ``canvas``."""
    width, height = frame
    header = (
        (0).to_bytes(3, "little") * 2  # offset x/2, y/2
        + (width - 1).to_bytes(3, "little")
        + (height - 1).to_bytes(3, "little")
        + (100).to_bytes(3, "little")  # duration, ms
        + b"\0"
    )
    anim = riff_chunk(b"ANIM", b"\0\0\0\0\0\0")
    anmf = riff_chunk(b"ANMF", header + riff_chunk(b"VP8L", vp8l(width, height)))
    return webp(vp8x(*canvas, animated=True), anim, anmf)


def gif(
    *, screen: tuple[int, int], images: tuple[tuple[int, int], ...], lzw: bytes = b"\x4c\x01"
) -> bytes:
    """A GIF89a whose logical screen is ``screen``, with one image descriptor per ``images``.

    ``lzw`` is each image's data, in one sub-block: by default a clear code
    then the end code (minimum code size 2), which FFmpeg decodes to a blank
    frame and OpenCV refuses.
    """
    head = b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    comment = b"\x21\xfe\x03abc\x02de\x00"  # a comment extension of two sub-blocks
    body = b""
    for size in images:
        control = b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # graphic control extension, 0.1 s
        descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, *size, 0)
        body += control + descriptor + b"\x02" + bytes([len(lzw)]) + lzw + b"\x00"
    return head + comment + body + b"\x3b"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_ihdr(width: int, height: int) -> bytes:
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))


def grey_rows(width: int, rows: int) -> bytes:
    """Deflated scanlines of a grey PNG: ``rows`` rows of ``width`` zero pixels."""
    return zlib.compress(b"\0" * (width + 1) * rows)


def apng(*, size: tuple[int, int], frame: tuple[int, int]) -> bytes:
    """An APNG whose IHDR is ``size`` and whose first fcTL declares ``frame``."""
    width, height = size
    control = png_chunk(b"acTL", struct.pack(">II", 1, 0))
    fctl = png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, *frame, 0, 0, 1, 10, 0, 0))
    idat = png_chunk(b"IDAT", grey_rows(width, height))
    return PNG_SIGNATURE + png_ihdr(*size) + control + fctl + idat + png_chunk(b"IEND", b"")


def grey_png(width: int, height: int) -> bytes:
    """A sound grey PNG, for the other input of a submission."""
    idat = png_chunk(b"IDAT", grey_rows(width, height))
    return PNG_SIGNATURE + png_ihdr(width, height) + idat + png_chunk(b"IEND", b"")


def png_with_bad_crc(width: int, height: int) -> bytes:
    """A grey PNG, headers intact, whose IDAT checksum is wrong: libpng refuses it."""
    idat = bytearray(png_chunk(b"IDAT", grey_rows(width, height)))
    idat[-1] ^= 0xFF
    return PNG_SIGNATURE + png_ihdr(width, height) + bytes(idat) + png_chunk(b"IEND", b"")


def bmp_with_h264_tail(side: int) -> bytes:
    """A 1x1 BMP followed by an H.264 key frame of ``side``x``side``: a polyglot.

    The BMP's reserved bytes are set, so FFmpeg's BMP probe scores low and,
    left to guess the format, FFmpeg reads the file as H.264 at the tail's size.
    """
    import io

    import av
    import numpy as np

    stream_bytes = io.BytesIO()
    with av.open(stream_bytes, mode="w", format="h264") as out:
        stream = out.add_stream("libx264", rate=1)
        assert isinstance(stream, av.VideoStream)
        stream.width = stream.height = side
        stream.pix_fmt = "yuv420p"
        black = np.zeros((side, side, 3), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(black, format="rgb24").reformat(format="yuv420p")
        frame.pts = 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    tail = stream_bytes.getvalue()
    dib = struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, 4, 2835, 2835, 0, 0)
    offset = 14 + len(dib)
    head = b"BM" + struct.pack("<IHHI", offset + 4 + len(tail), 1, 1, offset)
    return head + dib + b"\0\0\0\0" + tail


def avi_of_png(width: int, height: int, *, declared: tuple[int, int] | None = None) -> bytes:
    """An AVI of one grey PNG frame of ``width``x``height``, its header saying ``declared``.

    FFmpeg's probe decodes the frame to learn what the AVI header does not say,
    so ``av.open`` alone allocates the whole frame.
    """
    import io

    import av

    out_bytes = io.BytesIO()
    with av.open(out_bytes, mode="w", format="avi") as out:
        stream = out.add_stream("png", rate=1)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = declared or (width, height)
        stream.pix_fmt = "gray"
        packet = av.Packet(grey_png(width, height))
        packet.stream = stream
        packet.pts = packet.dts = 0
        packet.is_keyframe = True
        out.mux(packet)
    return out_bytes.getvalue()
