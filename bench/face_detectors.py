"""Offline face detector: dlib HOG (the default) against MediaPipe's BlazeFace, on one test set.

The set is ``tests/face_set.py``: 19 frames of 640x480 with 26 faces, made
from the two public domain fixture portraits (upright, mirrored, turned
in-plane by +-30 degrees, turned away by a perspective warp, small faces of
40-80 px, a group of eight of 50-90 px). A face counts as found when a box's
centre lies in it, each box used once; boxes left over are false finds.

HOG runs as the offline default does (``FaceDetector.detect``: the frame at
most 640 px, one upsample, ``face.hog_min_score``), and its coarse pass alone
(no upsample, which ``largest`` tries first). BlazeFace short range and full
range run as MediaPipe's graphs do (``bench/blazeface.py``) on ONNX Runtime,
one thread like dlib. Per frame: the median over every frame of the set, each frame
timed ``HOG_RUNS`` or ``BLAZE_RUNS`` times after a warm-up. The decision rule
of issue 16: a BlazeFace model may become the default only if it finds at
least as many faces as HOG at five times the speed or better. A last line, outside the
decision set, counts steeper in-plane turns (+-50 degrees); the last, how far
dlib's 68 points move when placed in the box the ``face.detect_blazeface``
engine derives from full range's keypoints instead of HOG's (mean, as a share
of the eye distance, over the frames where both find the one face). Prints the
load average, since the machine is shared.

Usage: ``python -m bench.face_detectors [--wheel mediapipe-0.10.21-...whl]``
(without ``--wheel``, pip downloads the wheel once; the model is cached).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tests.face_set import Frame, build_set, count_found, load_portraits, rotated, single

from bench.blazeface import FULL_RANGE, SHORT_RANGE, BlazeFace, model_bytes
from visiovox.config import load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.detect_blazeface import hog_like_box
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import FaceBox, Image

HOG_RUNS = 3
BLAZE_RUNS = 30
SPEED_NEEDED = 5.0
STEEP_DEGREES = (50, -50)
Detect = Callable[[Image], Sequence[FaceBox]]


def median_ms(detect: Detect, frames: Sequence[Frame], runs: int) -> float:
    times = []
    for frame in frames:
        detect(frame.image)
        for _ in range(runs):
            started = time.perf_counter()
            detect(frame.image)
            times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def tally(detect: Detect, frames: Sequence[Frame]) -> dict[str, tuple[int, int]]:
    """(found, false finds) per group of the set, and ``all``."""
    totals: dict[str, tuple[int, int]] = {}
    for frame in frames:
        found, false = count_found(frame, detect(frame.image))
        for key in (frame.group, "all"):
            before = totals.get(key, (0, 0))
            totals[key] = (before[0] + found, before[1] + false)
    return totals


def landmark_gap(
    frames: Sequence[Frame], hog: FaceDetector, full: BlazeFace, landmarker: FaceLandmarker
) -> tuple[float, float, int]:
    """Mean and worst 68-point distance (share of the eye distance) between the two boxes."""
    gaps = []
    for frame in frames:
        hog_boxes = hog.detect(frame.image, min_score=0.2)
        found = full.detections(frame.image)
        if len(hog_boxes) != 1 or len(found.scores) != 1:
            continue
        height, width = frame.image.shape[:2]
        box = hog_like_box(found.keypoints[0], width=width, height=height)
        if box is None:
            continue
        ours = landmarker.landmarks(frame.image, box).points
        hogs = landmarker.landmarks(frame.image, hog_boxes[0]).points
        eyes = float(np.linalg.norm(hogs[36:42].mean(axis=0) - hogs[42:48].mean(axis=0)))
        gaps.append(float(np.linalg.norm(ours - hogs, axis=1).mean()) / eyes)
    return statistics.mean(gaps), max(gaps), len(gaps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheel", type=Path, help="a downloaded mediapipe 0.10.21 wheel")
    args = parser.parse_args()

    settings = load_settings()
    hog = FaceDetector(settings=settings, device="cpu")
    hog.load()
    min_score = settings.face.hog_min_score
    blazes = [
        BlazeFace(variant, model_bytes(variant, wheel=args.wheel), threads=1)
        for variant in (SHORT_RANGE, FULL_RANGE)
    ]
    detectors: dict[str, Detect] = {
        "HOG (default)": lambda image: hog.detect(image, upsample=1, min_score=min_score),
        "HOG coarse": lambda image: hog.detect(image, upsample=0, min_score=min_score),
        **{blaze.variant.name: blaze.detect for blaze in blazes},
    }
    runs = {name: HOG_RUNS if name.startswith("HOG") else BLAZE_RUNS for name in detectors}

    frames = build_set()
    known: dict[str, int] = {}
    for frame in frames:
        for key in (frame.group, "all"):
            known[key] = known.get(key, 0) + len(frame.faces)
    counts = {name: tally(detect, frames) for name, detect in detectors.items()}
    load_before = os.getloadavg()[0]
    ms = {name: median_ms(detect, frames, runs[name]) for name, detect in detectors.items()}

    print(f"load average before timing: {load_before:.2f} (machine shared)")
    print(f"{len(frames)} frames of 640x480, {known['all']} faces; found (false finds)")
    names = list(detectors)
    print(f"{'group':18} {'faces':>5} " + " ".join(f"{name:>14}" for name in names))
    for group in [*dict.fromkeys(frame.group for frame in frames), "all"]:
        cells = " ".join(f"{counts[n][group][0]:>9} ({counts[n][group][1]})" for n in names)
        print(f"{group:18} {known[group]:>5} {cells}")
    print("ms per frame (median): " + ", ".join(f"{n} {ms[n]:.2f}" for n in names))
    hog_found = counts["HOG (default)"]["all"][0]
    for blaze in blazes:
        name = blaze.variant.name
        speed = ms["HOG (default)"] / ms[name]
        found_all = counts[name]["all"][0]
        wins = found_all >= hog_found and speed >= SPEED_NEEDED
        print(
            f"{name}: {found_all} vs HOG's {hog_found} faces at {speed:.1f}x HOG's speed: "
            + ("passes" if wins else "fails")
            + f" the rule (>= HOG's faces at >= {SPEED_NEEDED:.0f}x)"
        )
    steep = [
        single("steep", f"{degrees:+d}", rotated(portrait, degrees), face_px=150)
        for portrait in load_portraits()
        for degrees in STEEP_DEGREES
    ]
    found = {
        name: tally(detectors[name], steep)["all"][0] for name in names if name != "HOG coarse"
    }
    print(
        f"outside the set, in-plane +-50 deg ({len(steep)} faces): "
        + ", ".join(f"{name} {count}" for name, count in found.items())
    )
    landmarker = FaceLandmarker(settings=settings, device="cpu")
    landmarker.load()
    mean, worst, count = landmark_gap(frames, hog, blazes[1], landmarker)
    print(
        f"68 points in full range's HOG-shaped box vs in HOG's ({count} frames): "
        f"mean {100 * mean:.1f} %, worst {100 * worst:.1f} % of the eye distance"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
