"""Decode a short video's frames into memory, for pipelines that revisit frames.

Lip-sync re-times a face video to the audio by looping or ping-ponging it, so
the frames are held, downscaled so the longer side is at most ``max_side``
and cropped to even sizes (H.264 4:2:0). A video whose frames would take more
than ``max_bytes`` is refused with ``too_long`` before it fills the memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

from visiovox.media._av import av
from visiovox.media.capped_open import open_capped
from visiovox.media.errors import MediaError

RGBFrame = npt.NDArray[np.uint8]
DEFAULT_RATE = Fraction(25)


@dataclass(frozen=True)
class HeldVideo:
    """The decoded frames (RGB, all the same even size) and the average frame rate."""

    frames: list[RGBFrame]
    fps: float


def output_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(width, height) scaled so the longer side is at most ``max_side``, rounded down to even."""
    scale = 1.0 if max_side is None else min(1.0, max_side / max(width, height))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def fit_frame(frame: RGBFrame, size: tuple[int, int]) -> RGBFrame:
    """``frame`` resized to ``size`` (width, height) if it is not that size already."""
    import cv2

    height, width = frame.shape[:2]
    if (width, height) == size:
        return frame
    interpolation = cv2.INTER_AREA if size[0] < width else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(frame, size, interpolation=interpolation))


def read_frames(
    path: Path, *, max_side: int | None, max_bytes: int, max_pixels: int | None = None
) -> HeldVideo:
    """Every frame of the first video track of ``path``; none over ``max_pixels`` is decoded."""
    try:
        with open_capped(path, max_pixels=max_pixels) as container:
            if not container.streams.video:
                raise MediaError("invalid_media", "the file has no video track")
            stream = container.streams.video[0]
            rate = stream.average_rate or DEFAULT_RATE
            size = output_size(stream.codec_context.width, stream.codec_context.height, max_side)
            frames: list[RGBFrame] = []
            held = 0
            for frame in container.decode(stream):
                pixels = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
                frames.append(fit_frame(pixels, size))
                held += frames[-1].nbytes
                if held > max_bytes:
                    raise MediaError(
                        "too_long",
                        f"the video's frames take over {max_bytes // 2**20} MiB at "
                        f"{size[0]}x{size[1]}; send a shorter clip or a smaller size",
                    )
    except av.FFmpegError as exc:
        raise MediaError("invalid_media", f"cannot decode the video: {exc}") from exc
    if not frames:
        raise MediaError("invalid_media", "the video track holds no decodable frame")
    return HeldVideo(frames=frames, fps=float(rate))
