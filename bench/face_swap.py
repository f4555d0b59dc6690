"""Face swap with the warp engine: image latency at 1 MP, video throughput at 360p and 720p.

The source is the face of ``tests/faces.py`` (derived from the astronaut), the
target the astronaut portrait; both upscaled to 1000x1000. Stages are timed on
warm engines; "pipeline" is the whole ``face-swap`` run in-process (read both
images, detect, landmarks, swap, write the PNG or JPEG), median of RUNS.

Video: VIDEO_FRAMES frames of the portrait (scaled to the frame's height, on
grey) streamed through ``map_video`` with the pipeline's per-frame work; the
time not spent in detect, landmarks or swap is decode, colour conversion and
H.264 encode.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tests.faces import ASTRONAUT, derive_face, find_face

from visiovox.config import load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.swap_warp import WarpSwapper
from visiovox.engines.face.types import Face, Image
from visiovox.media.image import read_image, write_image
from visiovox.media.video import map_video
from visiovox.models.engine_pool import EnginePool
from visiovox.pipelines import face_swap
from visiovox.pipelines.testing import LocalContext, run_pipeline

SIDE = 1000
RUNS = 15
VIDEO_FRAMES = 40
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
        rows = {
            "detect (HOG on 640 px)": median_ms(lambda: detector.detect(target)),
            "68 landmarks": median_ms(lambda: landmarker.landmarks(target, target_face.box)),
            "warp swap (warp, colour, clone, feather)": median_ms(
                lambda: swapper.swap(
                    source=source, source_face=source_face, target=target, target_face=target_face
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
        video_rows = [
            video_throughput(
                folder, size=size, pictures=(source, source_face, astronaut), engines=engines
            )
            for size in VIDEO_SIZES
            for engines in [(detector, landmarker, swapper)]
        ]
        pool.close()
    print("| video | fps | detect | landmarks | swap | decode + encode |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in video_rows:
        print(row)
    print(f"1 MP ({SIDE}x{SIDE}), median of {RUNS} runs; engines loaded in {load_s:.2f} s")
    print("| stage | ms |\n| --- | ---: |")
    for name, value in rows.items():
        print(f"| {name} | {value:.1f} |")


def video_throughput(
    folder: Path,
    *,
    size: tuple[int, int],
    pictures: tuple[Image, Face, Image],
    engines: tuple[FaceDetector, FaceLandmarker, WarpSwapper],
) -> str:
    """One table row: frames per second and the share of each stage."""
    from fractions import Fraction

    from visiovox.media._av import av

    source, source_face, portrait = pictures
    detector, landmarker, swapper = engines
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
    spent = {"detect": 0.0, "landmarks": 0.0, "swap": 0.0}

    def transform(_index: int, picture: Image) -> Image:
        started = time.perf_counter()
        boxes = detector.detect(picture)[:1]
        marked = time.perf_counter()
        spent["detect"] += marked - started
        for box in boxes:
            target_face = landmarker.landmarks(picture, box)
            placed = time.perf_counter()
            spent["landmarks"] += placed - marked
            picture = swapper.swap(
                source=source, source_face=source_face, target=picture, target_face=target_face
            )
            spent["swap"] += time.perf_counter() - placed
        return picture

    started = time.perf_counter()
    result = map_video(clip, folder / f"out{height}.mp4", transform=transform)
    total = time.perf_counter() - started
    shares = [spent[stage] / total for stage in ("detect", "landmarks", "swap")]
    rest = 1.0 - sum(shares)
    cells = " | ".join(f"{share:.0%}" for share in [*shares, rest])
    return f"| {width}x{height} | {result.frames / total:.1f} | {cells} |"


if __name__ == "__main__":
    main()
