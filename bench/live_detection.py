"""Does full face detection stall a live stream? Inline (``FaceTracker``) against a thread
(``BackgroundTracker``), and whether dlib's HOG holds the GIL.

The frames are the live bench's (``bench/live_face_swap.py``'s ``video``: the
astronaut sliding a pixel a frame on a 640x480 grey canvas), decoded, fed to
the tracker at 30 fps paced in real time with a full detection every
``face.detect_every`` frames (10). Per frame: the time ``faces`` took (what
the live loop waits before it can swap), its p50 / p99 / max, and how many
frames took longer than a 30 fps frame's 33 ms budget. Both trackers run in
the same process, one after the other, on the same frames.

The GIL probe: a pure-Python loop on the main thread sleeping 1 ms at a time,
its longest gap alone and beside a thread that runs HOG over and over. A HOG
that held the GIL would show gaps as long as a detection (25-100 ms); a gap
of a few ms means a thread is enough and no process is needed.

    .venv/bin/python -m bench.live_detection [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

import cv2
import numpy as np

from bench.live_face_swap import FPS, video
from visiovox.config import load_settings
from visiovox.engines.face.background_tracker import BackgroundTracker, Detections
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.tracker import FaceTracker
from visiovox.engines.face.types import Image
from visiovox.engines.pool import EnginePool

BUDGET_MS = 1000 / FPS


def paced(tracker: FaceTracker, frames: list[Image]) -> list[float]:
    """Milliseconds each ``faces`` call took, frames fed at 30 fps."""
    costs = []
    started = time.perf_counter()
    for index, frame in enumerate(frames):
        delay = started + index / FPS - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        began = time.perf_counter()
        tracker.faces(frame)
        costs.append(1000 * (time.perf_counter() - began))
    return costs


def longest_gap_ms(seconds: float) -> float:
    """The longest a 1 ms sleep loop on this thread went between two turns."""
    gaps, last = [], time.perf_counter()
    end = last + seconds
    while last < end:
        time.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    return 1000 * max(gaps)


def gil_probe(detector: FaceDetector, frame: Image) -> tuple[float, float, float]:
    """The main thread's longest gap alone and beside HOG on a thread; one HOG's ms."""
    alone = longest_gap_ms(1.0)
    began = time.perf_counter()
    detector.detect(frame)
    one_ms = 1000 * (time.perf_counter() - began)
    stop = threading.Event()

    def hog() -> None:
        while not stop.is_set():
            detector.detect(frame)

    thread = threading.Thread(target=hog)
    thread.start()
    try:
        beside = longest_gap_ms(2.0)
    finally:
        stop.set()
        thread.join()
    return alone, beside, one_ms


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def row(name: str, costs: list[float]) -> str:
    over = sum(1 for cost in costs if cost > BUDGET_MS)
    return (
        f"| {name} | {statistics.median(costs):.1f} | {p99(costs):.1f} | {max(costs):.1f} | "
        f"{over} of {len(costs)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="frames fed to each tracker")
    args = parser.parse_args()
    settings = load_settings()
    pool = EnginePool(settings=settings, device="cpu")
    detector = pool.get("face.detect", FaceDetector)
    landmarker = pool.get("face.landmarks", FaceLandmarker)
    frames = [
        np.ascontiguousarray(
            cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), 1), cv2.COLOR_BGR2RGB)
        )
        for data in video(args.seconds)
    ]
    options = {
        "detect_every": settings.face.detect_every,
        "min_confidence": settings.face.track_min_confidence,
        "max_faces": 1,
        "min_score": settings.face.hog_min_score,
    }
    load_before = os.getloadavg()
    inline = paced(FaceTracker(detector, landmarker, **options), frames)
    detections = Detections()
    try:
        tracker = BackgroundTracker(detector, landmarker, detections=detections, **options)
        background = paced(tracker, frames)
    finally:
        detections.close()
    alone, beside, one_ms = gil_probe(detector, frames[0])
    load_after = os.getloadavg()
    print(
        f"{len(frames)} frames 640x480 at {FPS} fps, a full detection every "
        f"{settings.face.detect_every}; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after"
    )
    print("| tracker | faces() p50 ms | p99 ms | max ms | frames over 33 ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(row("detection inline (FaceTracker)", inline))
    print(row("detection on a thread (BackgroundTracker)", background))
    print(f"| p99 inline / on a thread | | {p99(inline) / p99(background):.1f}× | | |")
    print(
        f"\nGIL probe: one HOG pass {one_ms:.1f} ms; main thread's longest gap "
        f"{alone:.1f} ms alone, {beside:.1f} ms beside a HOG thread"
    )


if __name__ == "__main__":
    main()
