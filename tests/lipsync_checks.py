"""What the lip-sync tests read back from an output MP4: its streams and the lips in each frame."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.media._av import av


@dataclass(frozen=True)
class VideoFacts:
    """Codecs, frame rate, frame count and duration of an MP4, as decoded."""

    video_codec: str
    audio_codec: str | None
    fps: float
    frames: int
    width: int
    height: int
    audio_s: float


def video_facts(path: Path) -> VideoFacts:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frames = sum(1 for _ in container.decode(video))
        audio_s = 0.0
        if audio is not None and audio.duration is not None and audio.time_base is not None:
            audio_s = float(audio.duration * audio.time_base)
        return VideoFacts(
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio is not None else None,
            fps=float(video.average_rate or 0),
            frames=frames,
            width=video.codec_context.width,
            height=video.codec_context.height,
            audio_s=audio_s,
        )


def decoded_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def lip_gaps(
    frames: list[np.ndarray], detector: FaceDetector, landmarker: FaceLandmarker
) -> np.ndarray:
    """Inner-lip opening of every frame in pixels (68-point landmarks 61-63 to 67-65).

    The face is detected on the first frame; a talking avatar's head does not
    move, so its box serves every frame (detection is most of the cost).
    """
    boxes = detector.detect(frames[0])
    assert boxes, "the output lost the face"
    gaps = []
    for frame in frames:
        points = landmarker.landmarks(frame, boxes[0]).points
        gaps.append(float(np.mean(points[[67, 66, 65], 1] - points[[61, 62, 63], 1])))
    return np.array(gaps)
