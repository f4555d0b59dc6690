"""What lip-sync and talking-avatar share: speech, picking the engine, rendering, encoding.

Both pipelines run the stages ``speech`` (get the audio), ``analysis`` (find
the faces, analyse the speech), ``frames`` (move the mouths) and ``encode``.
Rendering streams each batch of frames into the encoder, so the ``frames``
stage also feeds the encoder; the seconds it spent encoding are reported
under ``encode`` in the result's ``seconds``. An uploaded audio must hold
speech by Silero VAD (``require_voice``): music or a steady hum is loud enough
for the engines' energy check but would move the mouth to no words.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.detect_scrfd import preferred_detector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.tracker import FaceTracker
from visiovox.engines.face.types import Face, Image
from visiovox.engines.lipsync.base import SPEECH_RATE, FaceFrame, LipSyncDriver, LipSyncEngine
from visiovox.engines.lipsync.face_box import CropBox
from visiovox.engines.vad.base import VADEngine, VADOptions, VoiceEventKind
from visiovox.errors import PipelineError
from visiovox.media.audio import decode_audio
from visiovox.media.errors import MediaError
from visiovox.media.resample import resample
from visiovox.media.video_encode import FrameWriter
from visiovox.pipelines.context import RunContext
from visiovox.pipelines.lip_sync.spec import LANDMARKS, LIPSYNC_ENGINES, VAD

# Audio fed to the VAD at a time: it stops at the first speech found, so speech costs little.
VAD_CHUNK_S = 1.0
# Progress at the end of each stage.
SPEECH_DONE, ANALYSIS_DONE, FRAMES_DONE = 15.0, 20.0, 95.0
OUTPUT = "video.mp4"


@dataclass(frozen=True)
class RenderSpan:
    """Output frames ``[start, end)`` rendered into ``output``; ``report`` takes the count done."""

    start: int
    end: int
    output: str
    report: Callable[[int], None]


@dataclass(frozen=True)
class Speech:
    """The audio to speak: 16 kHz mono for analysis, and the track written to the video."""

    analysis: npt.NDArray[np.float32]
    track: npt.NDArray[np.float32]
    track_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.track) / self.track_rate


@dataclass
class StageClock:
    """Wall seconds per stage, for the result."""

    seconds: dict[str, float]
    _stage: str = ""
    _since: float = 0.0

    def start(self, ctx: RunContext, stage: str) -> None:
        self.stop()
        ctx.stage(stage)
        self._stage, self._since = stage, time.perf_counter()

    def stop(self) -> None:
        if self._stage:
            elapsed = time.perf_counter() - self._since
            self.seconds[self._stage] = self.seconds.get(self._stage, 0.0) + elapsed
            self._stage = ""


def decode_speech(ctx: RunContext, field: str) -> Speech:
    """The audio of upload ``field``, kept at 44.1 kHz for the track; it must hold speech."""
    track_rate = 44_100
    try:
        track = decode_audio(ctx.input_path(field), sample_rate=track_rate)
    except MediaError as exc:
        raise PipelineError(exc.code, f"{field}: {exc.message}") from exc
    analysis = resample(track, rate=track_rate, to=SPEECH_RATE)
    if len(analysis) == 0:
        raise PipelineError("no_speech", f"{field}: the audio is empty")
    require_voice(ctx, analysis, field)
    return Speech(analysis=analysis, track=track, track_rate=track_rate)


def require_voice(ctx: RunContext, analysis: npt.NDArray[np.float32], field: str) -> None:
    """Raise ``no_speech`` unless Silero VAD hears speech somewhere in ``analysis`` (16 kHz).

    One pass at most, stopping at the first confirmed speech (200 ms voiced at
    probability 0.5, Silero's defaults); a last partial frame (under 32 ms)
    is not scored.
    """
    detector = ctx.engine(VAD, VADEngine).detector(VADOptions())  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
    chunk = int(VAD_CHUNK_S * SPEECH_RATE)
    for start in range(0, len(analysis), chunk):
        events = detector.feed(analysis[start : start + chunk])
        if detector.speaking or any(e.kind is VoiceEventKind.SPEECH_START for e in events):
            return
    raise PipelineError(
        "no_speech", f"{field}: the audio holds no speech (only silence, noise, music or a tone)"
    )


def lipsync_engine(ctx: RunContext, choice: str) -> LipSyncEngine:
    return ctx.engine(LIPSYNC_ENGINES[choice], LipSyncEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target


def find_face(ctx: RunContext, picture: Image) -> Face | None:
    """The largest face of ``picture`` with its landmarks, or None."""
    landmarker = ctx.engine(LANDMARKS, FaceLandmarker)
    min_score = ctx.settings.face.hog_min_score
    box = _detector(ctx).largest(picture, min_score=min_score)
    return None if box is None else landmarker.landmarks(picture, box)


def _detector(ctx: RunContext) -> FaceDetector:
    """The detector ``face.detector`` picks (SCRFD when chosen or cached, else HOG)."""
    return ctx.engine(preferred_detector(ctx.settings), FaceDetector)


def frame_count(speech: Speech, fps: float) -> int:
    """Frames that cover the speech at ``fps`` (at least one)."""
    return max(1, round(speech.duration_s * fps))


def render_video(
    ctx: RunContext,
    *,
    clock: StageClock,
    driver: LipSyncDriver,
    speech: Speech,
    fps: float,
    frames: int,
    picture: Callable[[int], tuple[Image, Face | None, CropBox | None]],
    span: RenderSpan | None = None,
) -> dict[str, Any]:
    """Stages ``frames`` and ``encode``: render every output frame and write ``video.mp4``.

    ``picture(i)`` gives output frame i's picture, its face (None: the frame
    is written unchanged) and the crop box made over the whole video (None:
    the engine makes it from the face). With ``span``, only its frames are
    rendered, into its own file and without audio (a segment of a job split
    across the fleet, ``pipelines/lip_sync/segments.py``).
    """
    begin, end = (span.start, span.end) if span else (0, frames)
    first, _, _ = picture(begin)
    height, width = first.shape[:2]
    clock.start(ctx, "frames")
    moved = 0
    name = span.output if span else OUTPUT
    path = ctx.output_path(name)
    audio = None if span else speech.track
    with FrameWriter(
        path, width=width, height=height, fps=fps, audio=audio, sample_rate=speech.track_rate
    ) as writer:
        for start in range(begin, end, driver.batch_size):
            ctx.check_cancelled()
            batch = [
                (index, *picture(index))
                for index in range(start, min(end, start + driver.batch_size))
            ]
            with_face = [
                FaceFrame(index, image, face, crop)
                for index, image, face, crop in batch
                if face is not None
            ]
            rendered = iter(driver.render(with_face))
            moved += len(with_face)
            for _index, image, face, _crop in batch:
                writer.write(next(rendered) if face is not None else image)
            done = start + len(batch)
            if span is not None:
                span.report(done - begin)
                continue
            share = done / frames
            ctx.progress(
                ANALYSIS_DONE + (FRAMES_DONE - ANALYSIS_DONE) * share,
                stage="frames",
                message=f"frame {done} of {frames}",
            )
        clock.start(ctx, "encode")
        encoded = writer.close()
    clock.stop()
    ctx.add_output(name, "video/mp4")
    ctx.progress(100.0, stage="encode")
    # The encoder ran inside the frames stage as frames streamed in; count it as encode.
    streamed = encoded.encode_s - clock.seconds["encode"]
    clock.seconds["frames"] -= streamed
    clock.seconds["encode"] = encoded.encode_s
    return {
        "frames": encoded.frames,
        "frames_lip_synced": moved,
        "fps": fps,
        "duration_s": encoded.duration_s,
        "audio_duration_s": round(speech.duration_s, 3),
        "width": encoded.width,
        "height": encoded.height,
        "seconds": {stage: round(value, 3) for stage, value in clock.seconds.items()},
    }


def no_face(what: str) -> PipelineError:
    return PipelineError("no_face_found", f"{what} has no face")


def faces_of(ctx: RunContext, pictures: Sequence[Image]) -> list[Face | None]:
    """The face of every picture (None where none is found); a video's faces are tracked.

    A held video is a sequence of consecutive frames, so its faces are detected
    every ``face.detect_every`` frames and tracked between (``FaceTracker``).
    """
    if len(pictures) == 1:
        return [find_face(ctx, pictures[0])]
    landmarker = ctx.engine(LANDMARKS, FaceLandmarker)
    settings = ctx.settings.face
    tracker = FaceTracker(
        _detector(ctx),
        landmarker,
        detect_every=settings.detect_every,
        min_confidence=settings.track_min_confidence,
        max_faces=1,
        min_score=settings.hog_min_score,
    )
    faces: list[Face | None] = []
    for index, picture in enumerate(pictures):
        if index % 25 == 0:
            ctx.check_cancelled()
        found = tracker.faces(picture)
        faces.append(found[0] if found else None)
    return faces
