"""Image face swap latency with the warp engine at 1 megapixel, stage by stage and whole.

The source is the face of ``tests/faces.py`` (derived from the astronaut), the
target the astronaut portrait; both upscaled to 1000x1000. Stages are timed on
warm engines; "pipeline" is the whole ``face-swap`` run in-process (read both
images, detect, landmarks, swap, write the PNG or JPEG), median of RUNS.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
from tests.faces import ASTRONAUT, derive_face, find_face

from visiovox.config import load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.swap_warp import WarpSwapper
from visiovox.media.image import read_image, write_image
from visiovox.models.engine_pool import EnginePool
from visiovox.pipelines import face_swap
from visiovox.pipelines.testing import LocalContext, run_pipeline

SIDE = 1000
RUNS = 15


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
        pool.close()
    print(f"1 MP ({SIDE}x{SIDE}), median of {RUNS} runs; engines loaded in {load_s:.2f} s")
    print("| stage | ms |\n| --- | ---: |")
    for name, value in rows.items():
        print(f"| {name} | {value:.1f} |")


if __name__ == "__main__":
    main()
