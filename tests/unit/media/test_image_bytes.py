"""Images held in memory (live frames): headers checked before decoding, JPEG answers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from visiovox.media.errors import MediaError
from visiovox.media.image import decode_image, encode_jpeg
from visiovox.media.image_header import check_image_bytes

FORMATS = frozenset({"jpeg", "png", "webp"})


def _encoded(ext: str, shape: tuple[int, int] = (48, 64)) -> bytes:
    ok, data = cv2.imencode(ext, np.full((*shape, 3), 90, np.uint8))
    assert ok
    return data.tobytes()


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp"])
def test_a_frame_decodes_to_rgb(ext: str) -> None:
    image = decode_image(_encoded(ext), max_pixels=10_000, formats=FORMATS)
    assert image.shape == (48, 64, 3) and image.dtype == np.uint8


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "invalid_media"),
        (b"not an image", "invalid_media"),
        (b"\xff\xd8\xff", "invalid_media"),  # a JPEG cut short
        (_encoded(".bmp"), "invalid_media"),  # a format frames may not be
        (_encoded(".png", (200, 100)), "too_large"),  # 20 000 pixels, over the cap
    ],
)
def test_a_frame_that_is_not_an_accepted_image_is_refused(data: bytes, code: str) -> None:
    with pytest.raises(MediaError) as caught:
        decode_image(data, max_pixels=10_000, formats=FORMATS)
    assert caught.value.code == code


def test_the_header_of_bytes_is_read_as_a_file_s() -> None:
    header = check_image_bytes(_encoded(".webp"), max_pixels=None)
    assert (header.format, header.width, header.height) == ("webp", 64, 48)


def test_an_answer_is_a_jpeg_at_the_quality_asked() -> None:
    noisy = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    low, high = encode_jpeg(noisy, quality=50), encode_jpeg(noisy, quality=95)
    assert low[:2] == high[:2] == b"\xff\xd8"
    assert len(low) < len(high)
