"""Reading images on a worker: the headers are checked again before OpenCV allocates anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import bombs
from visiovox.media.errors import MediaError
from visiovox.media.image import read_image

CAP = 40_000_000


@pytest.fixture
def no_opencv(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails any test whose file reaches OpenCV's decoder."""
    import cv2

    def decoded(*_args: object) -> None:
        raise AssertionError("OpenCV decoded a file the header check should have refused")

    monkeypatch.setattr(cv2, "imdecode", decoded)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (bombs.webp_lossless(13_000, 13_000), "too_large"),
        (bombs.webp_canvas_around(canvas=(1, 1), frame=(13_000, 13_000)), "too_large"),
        (bombs.gif(screen=(30_000, 30_000), images=((30_000, 30_000),)), "too_large"),
        (bombs.apng(size=(1, 1), frame=(3_000, 3_000)), "invalid_media"),
    ],
    ids=["webp-13000", "webp-13000-in-1x1", "gif-30000", "apng-fctl-over-ihdr"],
)
@pytest.mark.usefixtures("no_opencv")
def test_bombs_never_reach_opencv(tmp_path: Path, data: bytes, code: str) -> None:
    path = tmp_path / "bomb"
    path.write_bytes(data)
    with pytest.raises(MediaError) as caught:
        read_image(path, max_pixels=CAP)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "data",
    [bombs.png_with_bad_crc(32, 32), bombs.gif(screen=(32, 32), images=((32, 32),))],
    ids=["png-bad-checksum", "gif-without-pixels"],
)
def test_sound_headers_with_an_undecodable_body_are_invalid_media(
    tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "picture"
    path.write_bytes(data)
    with pytest.raises(MediaError) as caught:
        read_image(path, max_pixels=CAP)
    assert caught.value.code == "invalid_media" and "cannot decode" in caught.value.message


def test_an_opencv_exception_is_invalid_media(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cv2

    def failing(*_args: object) -> None:
        raise cv2.error("decoder assertion")

    monkeypatch.setattr(cv2, "imdecode", failing)
    path = tmp_path / "picture.png"
    path.write_bytes(bombs.png_with_bad_crc(8, 8))
    with pytest.raises(MediaError) as caught:
        read_image(path, max_pixels=CAP)
    assert caught.value.code == "invalid_media"
