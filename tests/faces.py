"""Face photos for the face tests: two real portraits and a face derived from one.

``ASTRONAUT`` (Eileen Collins) and ``HOPPER`` (Grace Hopper) are real public
domain portraits, 0.68 apart for dlib (over its 0.6 "different person"
threshold). Face B is derived from the astronaut (A) by a strong landmark warp
(eyes wider and higher, nose and mouth wider and lower, jaw narrower and
longer) plus a hue shift; dlib puts B ~0.54 from A.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Face, Image, Points
from visiovox.engines.face.warp import warp_triangles

FIXTURES = Path(__file__).parent / "fixtures"
ASTRONAUT = FIXTURES / "astronaut.png"
HOPPER = FIXTURES / "grace_hopper.jpg"
HUE_SHIFT = 10


def derive_face(image: Image, points: Points) -> Image:
    """``image`` with the face at ``points`` reshaped into another identity."""
    height, width = image.shape[:2]
    moved = points.copy()
    centre = points[27:36].mean(axis=0)
    face_height = float(points[8, 1] - points[27, 1])

    def scale(indices: list[int], *, sx: float, sy: float, dy: float = 0.0) -> None:
        part = moved[indices]
        moved[indices] = np.c_[
            centre[0] + (part[:, 0] - centre[0]) * sx,
            centre[1] + (part[:, 1] - centre[1]) * sy + dy * face_height,
        ]

    scale(list(range(17, 27)) + list(range(36, 48)), sx=1.18, sy=1.0, dy=-0.04)
    scale(list(range(48, 68)), sx=1.3, sy=1.15, dy=0.06)
    scale(list(range(31, 36)), sx=1.25, sy=1.0, dy=0.03)
    scale(list(range(17)), sx=0.88, sy=1.1)
    w, h = width - 1, height - 1
    anchors = np.float32(
        [[0, 0], [w, 0], [0, h], [w, h], [w // 2, 0], [w // 2, h], [0, h // 2], [w, h // 2]]
    )
    warped = warp_triangles(
        source=image,
        src_points=np.r_[points, anchors].astype(np.float32),
        dst_points=np.r_[moved, anchors].astype(np.float32),
        shape=(height, width),
    )
    hsv = cv2.cvtColor(warped, cv2.COLOR_RGB2HSV).astype(np.int16)
    hsv[..., 0] = (hsv[..., 0] + HUE_SHIFT) % 180
    return np.asarray(cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB), dtype=np.uint8)


def find_face(detector: FaceDetector, landmarker: FaceLandmarker, image: Image) -> Face:
    """The largest face of ``image`` with its landmarks; fails the test if there is none."""
    boxes = detector.detect(image)
    assert boxes, "no face found"
    return landmarker.landmarks(image, boxes[0])


def write_face_video(
    path: Path, image: Image, *, frames: int = 6, side: int = 256, blank_every: int = 0
) -> Path:
    """An MP4 of ``image`` shrunk to ``side`` pixels, drifting right, with an AAC tone.

    With ``blank_every`` = n, every n-th frame (from the first) is flat grey: no face.
    """
    from fractions import Fraction

    from visiovox.media._av import av

    fps = 5
    picture = cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)
    with av.open(str(path), mode="w", format="mp4") as out:
        video = out.add_stream("mpeg4", rate=fps)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = side, side, "yuv420p"
        audio = out.add_stream("aac", rate=48_000, layout="mono")
        assert isinstance(audio, av.AudioStream)
        for index in range(frames):
            shifted = np.ascontiguousarray(np.roll(picture, 2 * index, axis=1))
            if blank_every and index % blank_every == 0:
                shifted = np.full_like(picture, 90)
            frame = av.VideoFrame.from_ndarray(shifted, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        seconds = frames / fps
        t = np.arange(int(48_000 * seconds), dtype=np.float32) / 48_000
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[np.newaxis, :]
        sound = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
        sound.sample_rate, sound.pts, sound.time_base = 48_000, 0, Fraction(1, 48_000)
        out.mux(audio.encode(sound))
        out.mux(audio.encode(None))
    return path
