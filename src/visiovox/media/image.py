"""Read and write still images as RGB ``uint8`` arrays, with OpenCV.

Uploads were sniffed and probed by the gateway, but a file may reach a worker
by another path, so reading checks the headers (``check_image``: every size,
the pixel cap) again before OpenCV allocates anything. A file that OpenCV
still cannot decode (a corrupt body behind sound headers, a GIF FFmpeg reads
and OpenCV does not) is ``invalid_media``, never an unexpected exception.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from visiovox.media.errors import MediaError
from visiovox.media.image_header import check_image, check_image_bytes

# Formats a result can be written in, by extension; others (GIF) fall back to PNG.
IMAGE_CONTENT_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "bmp": "image/bmp",
}
JPEG_QUALITY = 95


def output_extension(input_name: str) -> str:
    """The extension to write a result of the image ``input_name`` in."""
    suffix = Path(input_name).suffix.lower().lstrip(".")
    suffix = "jpg" if suffix == "jpeg" else suffix
    return suffix if suffix in IMAGE_CONTENT_TYPES else "png"


def read_image(path: Path, *, max_pixels: int | None = None) -> npt.NDArray[np.uint8]:
    """The image at ``path`` as RGB, alpha dropped; ``MediaError`` if it cannot be.

    ``max_pixels`` caps every size its headers declare (None: no cap, for
    files the service ships or wrote itself).
    """
    import cv2

    check_image(path, max_pixels=max_pixels)
    data = np.fromfile(path, dtype=np.uint8)
    try:
        decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error as exc:
        raise MediaError("invalid_media", f"cannot decode the image {path.name}") from exc
    if decoded is None:
        raise MediaError("invalid_media", f"cannot decode the image {path.name}")
    return np.ascontiguousarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def decode_image(data: bytes, *, max_pixels: int, formats: frozenset[str]) -> npt.NDArray[np.uint8]:
    """The image held in ``data`` as RGB (a live frame): its headers checked first, only
    ``formats`` (``check_image_bytes`` names) accepted; ``MediaError`` if it cannot be."""
    import cv2

    header = check_image_bytes(data, max_pixels=max_pixels)
    if header.format not in formats:
        raise MediaError("invalid_media", f"a {header.format} image is not accepted here")
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise MediaError("invalid_media", "cannot decode the image")
    return np.ascontiguousarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def encode_jpeg(image: npt.NDArray[np.uint8], *, quality: int) -> bytes:
    """RGB ``image`` as JPEG bytes at ``quality`` (1..100)."""
    import cv2

    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise MediaError("invalid_media", "cannot encode an image as jpg")
    return encoded.tobytes()


def write_image(path: Path, image: npt.NDArray[np.uint8]) -> None:
    """Write RGB ``image`` to ``path`` in the format its extension names."""
    import cv2

    ext = path.suffix.lower().lstrip(".")
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if ext == "jpg" else []
    if ext == "webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, JPEG_QUALITY]
    ok, encoded = cv2.imencode(f".{ext}", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise MediaError("invalid_media", f"cannot encode an image as {ext}")
    path.write_bytes(encoded.tobytes())
