"""Encode generated RGB frames and a mono audio track into an MP4 (H.264 yuv420p + AAC).

Frames arrive one at a time (``write``) and are encoded at once, so memory
stays flat; the audio is encoded when the writer closes and the muxer
interleaves the two. Frames are converted to YUV 4:2:0 with OpenCV, faster than
letting the encoder's scaler do it. Time spent converting and encoding is
counted in ``encode_s`` so a pipeline can report it apart from rendering.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from visiovox.media._av import av
from visiovox.media.errors import MediaError

VIDEO_CODEC = "libx264"
# veryfast at CRF 23 is ~3× cheaper than medium for a talking head and looks the same.
VIDEO_OPTIONS = {"crf": "23", "preset": "veryfast"}
AAC_RATES = (8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000)
AUDIO_SLICE_S = 1


@dataclass(frozen=True)
class EncodedVideo:
    """What was written, and the seconds spent converting and encoding."""

    frames: int
    duration_s: float
    width: int
    height: int
    encode_s: float


class FrameWriter:
    """An MP4 being written: ``write`` RGB frames of ``width``×``height`` (both even)."""

    def __init__(
        self,
        path: Path,
        *,
        width: int,
        height: int,
        fps: float,
        audio: npt.NDArray[np.float32] | None,
        sample_rate: int,
    ) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"H.264 yuv420p needs an even size, got {width}x{height}")
        if audio is not None and sample_rate not in AAC_RATES:
            raise ValueError(f"AAC takes {AAC_RATES} Hz, not {sample_rate}")
        self.width, self.height = width, height
        self._rate = Fraction(fps).limit_denominator(1001)
        self._audio, self._sample_rate = audio, sample_rate
        self._frames = 0
        self._encode_s = 0.0
        try:
            self._out = av.open(str(path), mode="w", format="mp4")
            video = self._out.add_stream(VIDEO_CODEC, rate=self._rate, options=VIDEO_OPTIONS)
            assert isinstance(video, VideoStream)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            self._video = video
            self._audio_stream: AudioStream | None = None
            if audio is not None:
                stream = self._out.add_stream("aac", rate=sample_rate, layout="mono")
                assert isinstance(stream, AudioStream)
                self._audio_stream = stream
        except av.FFmpegError as exc:
            raise MediaError("invalid_media", f"cannot open the video encoder: {exc}") from exc

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._out.close()

    def write(self, frame: npt.NDArray[np.uint8]) -> None:
        """Encode the next frame (RGB, height×width×3)."""
        import cv2

        started = time.perf_counter()
        yuv = np.asarray(
            cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YUV_I420), dtype=np.uint8
        )
        picture = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        picture.pts, picture.time_base = self._frames, 1 / self._rate
        self._out.mux(self._video.encode(picture))
        self._frames += 1
        self._encode_s += time.perf_counter() - started

    def close(self) -> EncodedVideo:
        """Flush the video, encode the audio, finish the file."""
        started = time.perf_counter()
        try:
            self._out.mux(self._video.encode(None))
            if self._audio_stream is not None and self._audio is not None:
                self._encode_audio(self._audio_stream, self._audio)
        finally:
            self._out.close()
        self._encode_s += time.perf_counter() - started
        return EncodedVideo(
            frames=self._frames,
            duration_s=round(self._frames / float(self._rate), 3),
            width=self.width,
            height=self.height,
            encode_s=self._encode_s,
        )

    def _encode_audio(self, stream: AudioStream, samples: npt.NDArray[np.float32]) -> None:
        planar = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)[None, :]
        step = self._sample_rate * AUDIO_SLICE_S
        for start in range(0, planar.shape[1], step):
            chunk = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(planar[:, start : start + step]), format="fltp", layout="mono"
            )
            chunk.sample_rate = self._sample_rate
            chunk.pts = start
            chunk.time_base = Fraction(1, self._sample_rate)
            self._out.mux(stream.encode(chunk))
        self._out.mux(stream.encode(None))
