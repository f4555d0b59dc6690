"""Face swap with the warp engine: image latency at 1 MP, video throughput at 360p and 720p.

The source is the face of ``tests/faces.py`` (derived from the astronaut), the
target the astronaut portrait; both upscaled to 1000x1000. Stages are timed on
warm engines; "pipeline" is the whole ``face-swap`` run in-process (read both
images, detect, landmarks, swap, write the PNG or JPEG), median of RUNS.

Video: VIDEO_FRAMES frames of the portrait (scaled to the frame's height, on
grey, sliding a pixel a frame) streamed through ``map_video``, two ways: a
detection, landmarks and a Poisson-blended swap (source prepared again) on
every frame, as the pipeline did before the tracker; and the pipeline now
(``FaceTracker`` with the default ``face:`` settings, the source prepared
once, feathered blend). The time not spent in detect, track + landmarks or
swap ("rest") is decode, colour conversion and H.264 encode. Each row is the
fastest of VIDEO_ROUNDS runs, as other work on the shared machine only slows
a run down.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tests.faces import ASTRONAUT, derive_face, find_face

from visiovox.config import FaceSettings, load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.swap_warp import WarpSwapper
from visiovox.engines.face.tracker import FaceTracker
from visiovox.engines.face.types import Face, FaceBox, Image
from visiovox.engines.pool import EnginePool
from visiovox.media.image import read_image, write_image
from visiovox.media.video import map_video
from visiovox.pipelines.face_swap import spec as face_swap
from visiovox.pipelines.testing import LocalContext, run_pipeline

SIDE = 1000
RUNS = 15
VIDEO_FRAMES = 100
VIDEO_ROUNDS = 3
VIDEO_SIZES = ((640, 360), (1280, 720))


def median_ms(work: Callable[[], Any]) -> float:
    work()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pool = EnginePool(settings=load_settings(models={"cache_dir": folder / "m"}), device="cpu")
        started = time.perf_counter()
        detector = pool.get("face.detect", FaceDetector)
        landmarker = pool.get("face.landmarks", FaceLandmarker)
        swapper = pool.get("face.swap_warp", WarpSwapper)
        load_s = time.perf_counter() - started
        size = (SIDE, SIDE)
        astronaut = read_image(ASTRONAUT)
        target = cv2.resize(astronaut, size, interpolation=cv2.INTER_CUBIC)
        small_source = derive_face(astronaut, find_face(detector, landmarker, astronaut).points)
        source = cv2.resize(small_source, size, interpolation=cv2.INTER_CUBIC)
        source_face = find_face(detector, landmarker, source)
        target_face = find_face(detector, landmarker, target)
        prepared = swapper.prepare(source, source_face)
        rows = {
            "detect (HOG on 640 px)": median_ms(lambda: detector.detect(target)),
            "largest face (coarse HOG pass first)": median_ms(lambda: detector.largest(target)),
            "68 landmarks": median_ms(lambda: landmarker.landmarks(target, target_face.box)),
            "warp swap (prepare the source, warp, colour, clone, feather)": median_ms(
                lambda: swapper.swap(
                    source=source, source_face=source_face, target=target, target_face=target_face
                )
            ),
            "warp swap, source prepared, seamless": median_ms(
                lambda: swapper.apply(prepared, target=target, target_face=target_face)
            ),
            "warp swap, source prepared, feather": median_ms(
                lambda: swapper.apply(
                    prepared, target=target, target_face=target_face, mode="feather"
                )
            ),
        }
        for ext in ("png", "jpg"):
            write_image(folder / f"source.{ext}", source)
            write_image(folder / f"target.{ext}", target)
            files = {"source": folder / f"source.{ext}", "target": folder / f"target.{ext}"}

            def whole(files: dict[str, Path] = files) -> None:
                root = Path(tempfile.mkdtemp(dir=folder))
                ctx = LocalContext.with_files(root=root, pool=pool, files=files)
                run_pipeline(face_swap.SPEC, {}, ctx)

            rows[f"face-swap pipeline in-process, {ext} in and out"] = median_ms(whole)
        engines = (detector, landmarker, swapper)
        video_rows = []
        for size in VIDEO_SIZES:
            clip = write_clip(folder, astronaut, size=size)
            for way in ("every frame", "tracker"):
                video_rows.append(
                    video_throughput(clip, way=way, pictures=(source, source_face), engines=engines)
                )
        pool.close()
    print(f"{VIDEO_FRAMES} frames, best of {VIDEO_ROUNDS}; load average {os.getloadavg()[0]:.2f}")
    print(
        "| video | faces found by | detections | fps | detect | track + landmarks | swap | rest |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in video_rows:
        print(row)
    print(f"1 MP ({SIDE}x{SIDE}), median of {RUNS} runs; engines loaded in {load_s:.2f} s")
    print("| stage | ms |\n| --- | ---: |")
    for name, value in rows.items():
        print(f"| {name} | {value:.1f} |")


class TimedDetector:
    """A detector that adds the time of each call to ``spent["detect"]``."""

    def __init__(self, detector: FaceDetector, spent: dict[str, float]) -> None:
        self.detector, self.spent = detector, spent

    def detect(self, image: Image, *, upsample: int = 1, min_score: float = 0.0) -> list[FaceBox]:
        started = time.perf_counter()
        boxes = self.detector.detect(image, upsample=upsample, min_score=min_score)
        self.spent["detect"] += time.perf_counter() - started
        return boxes

    def largest(self, image: Image, *, min_score: float = 0.0) -> FaceBox | None:
        started = time.perf_counter()
        box = self.detector.largest(image, min_score=min_score)
        self.spent["detect"] += time.perf_counter() - started
        return box


def write_clip(folder: Path, portrait: Image, *, size: tuple[int, int]) -> Path:
    """VIDEO_FRAMES frames of ``portrait`` on grey, sliding one pixel a frame."""
    from fractions import Fraction

    from visiovox.media._av import av

    width, height = size
    frame = np.full((height, width, 3), 90, dtype=np.uint8)
    face = cv2.resize(portrait, (height, height), interpolation=cv2.INTER_AREA)
    left = (width - height) // 2
    frame[:, left : left + height] = face
    clip = folder / f"clip{height}.mp4"
    with av.open(str(clip), mode="w") as out:
        stream = out.add_stream("libx264", rate=25)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(VIDEO_FRAMES):
            picture = av.VideoFrame.from_ndarray(np.roll(frame, index, axis=1), format="rgb24")
            picture.pts, picture.time_base = index, Fraction(1, 25)
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    return clip


def video_throughput(
    clip: Path,
    *,
    way: str,
    pictures: tuple[Image, Face],
    engines: tuple[FaceDetector, FaceLandmarker, WarpSwapper],
) -> str:
    """One table row: the fastest of VIDEO_ROUNDS runs (the machine is shared)."""
    rows = [
        one_video_run(clip, way=way, pictures=pictures, engines=engines)
        for _ in range(VIDEO_ROUNDS)
    ]
    return max(rows)[1]


def one_video_run(
    clip: Path,
    *,
    way: str,
    pictures: tuple[Image, Face],
    engines: tuple[FaceDetector, FaceLandmarker, WarpSwapper],
) -> tuple[float, str]:
    """Frames per second, and the table row with the share of each stage.

    ``way`` "every frame": detect and place landmarks on every frame, prepare the
    source and Poisson-blend each time (the pipeline before the tracker);
    "tracker": ``FaceTracker`` with the default settings, the source prepared
    once, feathered blend (the pipeline now).
    """
    source, source_face = pictures
    detector, landmarker, swapper = engines
    defaults = FaceSettings()
    spent = {"detect": 0.0, "landmarks": 0.0, "swap": 0.0}
    timed = TimedDetector(detector, spent)
    tracker = FaceTracker(
        timed,  # type: ignore[arg-type]  # duck-typed: only detect() and largest() are used
        landmarker,
        detect_every=defaults.detect_every,
        min_confidence=defaults.track_min_confidence,
        max_faces=1,
        min_score=defaults.hog_min_score,
    )
    prepared = swapper.prepare(source, source_face)

    def every_frame(picture: Image) -> Image:
        boxes = timed.detect(picture)[:1]
        for box in boxes:
            started = time.perf_counter()
            target_face = landmarker.landmarks(picture, box)
            placed = time.perf_counter()
            spent["landmarks"] += placed - started
            picture = swapper.swap(
                source=source, source_face=source_face, target=picture, target_face=target_face
            )
            spent["swap"] += time.perf_counter() - placed
        return picture

    def tracked(picture: Image) -> Image:
        started = time.perf_counter()
        detected = spent["detect"]
        faces = tracker.faces(picture)
        placed = time.perf_counter()
        # The tracker's time less its detections: optical flow and landmarks.
        spent["landmarks"] += placed - started - (spent["detect"] - detected)
        for face in faces:
            picture = swapper.apply(
                prepared, target=picture, target_face=face, mode=defaults.video_blend
            )
        spent["swap"] += time.perf_counter() - placed
        return picture

    work = every_frame if way == "every frame" else tracked
    started = time.perf_counter()
    result = map_video(clip, clip.with_name("out.mp4"), transform=lambda _i, frame: work(frame))
    total = time.perf_counter() - started
    shares = [spent[stage] / total for stage in ("detect", "landmarks", "swap")]
    rest = 1.0 - sum(shares)
    cells = " | ".join(f"{share:.0%}" for share in [*shares, rest])
    height, width = result.height, result.width
    detections = tracker.detections if way == "tracker" else result.frames
    fps = result.frames / total
    return fps, f"| {width}x{height} | {way} | {detections} | {fps:.1f} | {cells} |"


if __name__ == "__main__":
    main()
