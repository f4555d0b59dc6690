"""Every size an image declares is read from its headers and checked before any decoding."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests import bombs
from tests.unit.media.samples import IMAGE_WRITERS, write_image
from visiovox.media import image_header
from visiovox.media._av import av
from visiovox.media.errors import MediaError
from visiovox.media.image_header import ImageHeader, check_image
from visiovox.media.kinds import MediaKind
from visiovox.media.probe import probe_media

CAP = 40_000_000  # the default uploads.max_pixels


def write(tmp_path: Path, data: bytes, name: str = "upload") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(path: Path, *, max_pixels: int | None = CAP) -> MediaError:
    with pytest.raises(MediaError) as caught:
        check_image(path, max_pixels=max_pixels)
    return caught.value


@pytest.mark.parametrize("fmt", sorted(IMAGE_WRITERS))
def test_header_size_of_every_format(tmp_path: Path, fmt: str) -> None:
    path = write_image(tmp_path / f"picture.{fmt}", fmt=fmt, size=(40, 30))
    header = check_image(path, max_pixels=CAP)
    assert (header.width, header.height) == (40, 30)
    assert header.format == {"jpg": "jpeg"}.get(fmt, fmt)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (bombs.webp_canvas_around(canvas=(64, 48), frame=(64, 48)), ("webp", 64, 48)),
        (bombs.webp(bombs.riff_chunk(b"VP8L", bombs.vp8l(64, 48))), ("webp", 64, 48)),
        (bombs.webp_animation(canvas=(64, 48), frame=(32, 16)), ("webp", 64, 48)),
        (bombs.gif(screen=(64, 48), images=((64, 48), (10, 10))), ("gif", 64, 48)),
        (bombs.apng(size=(64, 48), frame=(64, 48)), ("apng", 64, 48)),
    ],
    ids=["webp-vp8x", "webp-vp8l", "webp-animation", "gif-two-images", "apng"],
)
def test_frames_that_fit_their_canvas_pass(
    tmp_path: Path, data: bytes, expected: tuple[str, int, int]
) -> None:
    assert check_image(write(tmp_path, data), max_pixels=CAP) == ImageHeader(*expected)


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (bombs.webp_canvas_around(canvas=(1, 1), frame=(13_000, 13_000)), "13000x13000"),
        (bombs.gif(screen=(1, 1), images=((30_000, 30_000),)), "30000x30000"),
        (bombs.gif(screen=(30_000, 30_000), images=((8, 8), (30_000, 30_000))), "30000x30000"),
        (bombs.webp_animation(canvas=(16_383, 16_383), frame=(16_383, 16_383)), "16383x16383"),
    ],
    ids=["webp-13000-in-1x1", "gif-30000-in-1x1", "gif-second-image", "webp-animation"],
)
def test_bombs_over_the_cap_are_too_large(tmp_path: Path, data: bytes, what: str) -> None:
    error = refused(write(tmp_path, data))
    assert error.code == "too_large"
    assert what in error.message and "40000000" in error.message


def test_the_webp_bomb_is_tiny(tmp_path: Path) -> None:
    """The lossless bitstream of 169 million pixels takes a dozen bytes: only the header tells."""
    data = bombs.webp_canvas_around(canvas=(1, 1), frame=(13_000, 13_000))
    assert len(data) < 100
    assert refused(write(tmp_path, data), max_pixels=None).code == "invalid_media"


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (bombs.webp_canvas_around(canvas=(1, 1), frame=(4_000, 4_000)), "WebP bitstream (VP8L)"),
        (bombs.webp_canvas_around(canvas=(64, 64), frame=(32, 32)), "WebP bitstream (VP8L)"),
        (bombs.webp_animation(canvas=(1, 1), frame=(4_000, 4_000)), "ANMF"),
        (bombs.gif(screen=(1, 1), images=((4_000, 4_000),)), "GIF image descriptor"),
        (bombs.gif(screen=(64, 64), images=((64, 64), (65, 8))), "GIF image descriptor"),
        (bombs.apng(size=(1, 1), frame=(3_000, 3_000)), "APNG frame (fcTL)"),
    ],
    ids=[
        "webp-4000-in-1x1",
        "webp-smaller-than-canvas",
        "webp-animation-frame",
        "gif-screen",
        "gif-second-image",
        "apng-fctl-over-ihdr",
    ],
)
def test_frames_outside_their_canvas_are_invalid(tmp_path: Path, data: bytes, what: str) -> None:
    error = refused(write(tmp_path, data))
    assert error.code == "invalid_media"
    assert what in error.message and "canvas" in error.message


def test_an_animation_frame_must_hold_a_bitstream_of_its_size(tmp_path: Path) -> None:
    header = b"\0" * 6 + (7).to_bytes(3, "little") * 2 + b"\0" * 4  # an 8x8 frame
    anmf = bombs.riff_chunk(b"ANMF", header + bombs.riff_chunk(b"VP8L", bombs.vp8l(4_000, 8)))
    data = bombs.webp(bombs.vp8x(64, 64, animated=True), anmf)
    error = refused(write(tmp_path, data))
    assert error.code == "invalid_media" and "of an ANMF frame (4000x8" in error.message


def test_a_second_jpeg_frame_header_must_match_the_first(tmp_path: Path) -> None:
    import cv2

    ok, encoded = cv2.imencode(".jpg", np.full((16, 16, 3), 90, dtype=np.uint8))
    assert ok
    jpeg = encoded.tobytes()
    sof = jpeg.index(b"\xff\xc0")
    second = jpeg[sof : sof + 5] + struct.pack(">HH", 4_000, 4_000) + jpeg[sof + 9 : -2]
    error = refused(write(tmp_path, jpeg[:-2] + second + b"\xff\xd9"))
    assert error.code == "invalid_media" and "second JPEG frame" in error.message


def test_a_jpeg_after_the_end_of_the_first_is_not_read(tmp_path: Path) -> None:
    import cv2

    ok, encoded = cv2.imencode(".jpg", np.full((16, 16, 3), 90, dtype=np.uint8))
    assert ok
    jpeg = encoded.tobytes()
    assert check_image(write(tmp_path, jpeg + b"\xff\xd8garbage"), max_pixels=CAP).width == 16


def test_a_png_bomb_is_too_large(tmp_path: Path) -> None:
    data = bombs.PNG_SIGNATURE + bombs.png_ihdr(60_000, 60_000)
    data += bombs.png_chunk(b"IDAT", bombs.grey_rows(60_000, 64)) + bombs.png_chunk(b"IEND", b"")
    assert len(data) < 100_000
    error = refused(write(tmp_path, data))
    assert error.code == "too_large" and "60000x60000" in error.message


def test_an_os2_bitmap_reads_16_bit_sizes(tmp_path: Path) -> None:
    data = b"BM" + struct.pack("<IHHI", 32, 0, 0, 26) + struct.pack("<IHHHH", 12, 3, 2, 1, 24)
    assert check_image(write(tmp_path, data + b"\0" * 6), max_pixels=CAP).width == 3


def test_a_cut_gif_keeps_the_images_before_the_cut(tmp_path: Path) -> None:
    data = bombs.gif(screen=(8, 8), images=((8, 8), (8, 8)))
    cut = data[: data.rindex(b"\x2c") + 5]  # inside the second image descriptor
    assert check_image(write(tmp_path, cut), max_pixels=CAP).width == 8


def test_a_walk_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_header, "MAX_STRUCTURES", 50)
    data = bombs.gif(screen=(8, 8), images=((8, 8),), lzw=b"\x4c")
    tiny_blocks = data[:-2] + b"\x01\x00" * 60 + b"\x00\x3b"
    error = refused(write(tmp_path, tiny_blocks))
    assert error.code == "invalid_media" and "over 50 GIF sub-blocks" in error.message


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 8,
        b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0",
        b"\xff\xd8\xff\xe0\x00",
        b"\xff\xd8\xff\xe0\x00\x04\0\0\xff\xd9",
        b"RIFF\0\0\0\0WEBPVP9 ",
        b"RIFF\x10\0\0\0WEBPVP8X\x0a\0\0\0\0\0",
        b"RIFF\x10\0\0\0WEBPVP8 \x10\0\0\0\x01\0\0\x9d\x01\x2a\x08\0\x08\0",
        bombs.webp(bombs.riff_chunk(b"VP8L", b"\x00" + bombs.vp8l(8, 8)[1:])),
        b"GIF89a\x08\x00",
        bombs.gif(screen=(8, 8), images=())[:-1] + b"\x3b",
        bombs.gif(screen=(8, 8), images=((8, 8),))[:-1] + b"\x99\x3b",
        bombs.gif(screen=(0, 8), images=((0, 8),)),
        b"BM" + b"\0" * 12 + struct.pack("<I", 40) + struct.pack("<i", -5),
        b"BM" + b"\0" * 12 + struct.pack("<Iii", 40, 0, 8),
        b"plain text, not an image at all",
    ],
    ids=[
        "empty",
        "png-no-ihdr",
        "png-ihdr-cut",
        "jpeg-cut",
        "jpeg-no-sof",
        "webp-unknown",
        "webp-vp8x-cut",
        "webp-vp8-not-a-key-frame",
        "webp-vp8l-no-signature",
        "gif-screen-cut",
        "gif-no-image",
        "gif-unknown-block",
        "gif-no-size",
        "bmp-cut",
        "bmp-no-width",
        "unknown",
    ],
)
def test_corrupt_headers_are_invalid(tmp_path: Path, data: bytes) -> None:
    assert refused(write(tmp_path, data), max_pixels=1_000).code == "invalid_media"


@pytest.fixture
def no_ffmpeg(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails any test whose file reaches FFmpeg."""

    def opened(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("FFmpeg opened a file the header check should have refused")

    monkeypatch.setattr(av, "open", opened)


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: bombs.webp_canvas_around(canvas=(1, 1), frame=(13_000, 13_000)), "too_large"),
        (lambda: bombs.webp_canvas_around(canvas=(1, 1), frame=(4_000, 4_000)), "invalid_media"),
        (lambda: bombs.gif(screen=(1, 1), images=((30_000, 30_000),)), "too_large"),
        (lambda: bombs.apng(size=(1, 1), frame=(3_000, 3_000)), "invalid_media"),
    ],
    ids=["webp-13000", "webp-4000", "gif-30000", "apng"],
)
@pytest.mark.usefixtures("no_ffmpeg")
def test_probe_refuses_bombs_before_ffmpeg_opens_them(
    tmp_path: Path, make: Callable[[], bytes], code: str
) -> None:
    with pytest.raises(MediaError) as caught:
        probe_media(write(tmp_path, make()), kind=MediaKind.IMAGE, max_pixels=CAP)
    assert caught.value.code == code


def test_probe_reads_the_format_that_was_checked(tmp_path: Path) -> None:
    """Left to guess, FFmpeg reads this 1x1 BMP as the 2000x2000 H.264 stream behind it."""
    path = write(tmp_path, bombs.bmp_with_h264_tail(2_000))
    info = probe_media(path, kind=MediaKind.IMAGE, max_pixels=10_000)
    assert (info.codec, info.width, info.height) == ("bmp", 1, 1)


def test_probe_reads_an_apng_as_an_animation(tmp_path: Path) -> None:
    path = write(tmp_path, bombs.apng(size=(8, 8), frame=(8, 8)))
    info = probe_media(path, kind=MediaKind.IMAGE, max_pixels=CAP)
    assert (info.codec, info.width, info.height) == ("apng", 8, 8)
