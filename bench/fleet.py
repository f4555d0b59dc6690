"""A long face-swap video on one worker and on two: segmented jobs across the fleet.

The video: SECONDS s of 640×360 at FPS fps, the astronaut portrait of the test
fixtures scaled to the frame's height, on grey, sliding a pixel a frame, with
an AAC tone (H.264 as x264 writes it by default: a keyframe at least every
250 frames, more at scene cuts). Three deployments on this machine, each a
real gateway, Redis and workers (``tests/integration/stack.py``), each worker
held to one core (``taskset`` on all its threads, native pools told one
thread): one worker with the video whole (``fleet.segment_s`` over its
length), one worker with it segmented, two workers with it segmented. Every
worker first runs a short job so its engines are loaded. A row is the fastest
of ROUNDS fresh deployments, the three configurations interleaved round by
round (submit to the terminal state as the job's record has it).

Planner: the parent's first run (claim to its ``segments`` stage, i.e. reading
the packets, planning and the split's Lua step). Stitch: its second run (claim
to success: the segments' packets copied and the audio muxed). Dispatch: a
segment's wait from its creation to its claim when a worker was idle. The
per-segment costs printed are what ``bench/fleet_sim.py`` takes.

The machine's own ceiling, measured in the same run: a CPU-bound Python loop
on core 0 alone, then one on each core at once; the slower of the pair over
half the lone time is the best wall-time ratio two workers can reach here
(the two virtual cores do not each run at full speed while both are busy).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import redis
from tests.faces import ASTRONAUT, write_face_video
from tests.integration.stack import Stack, wait_for_job

from visiovox.media._av import av
from visiovox.media.image import read_image

SECONDS, FPS, WIDTH, HEIGHT = 60, 25, 640, 360
ROUNDS = 3
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VISIOVOX_ONNX__INTRA_OP_THREADS": "1",
    "VISIOVOX_ONNX__INTER_OP_THREADS": "1",
}


def make_video(path: Path, *, seconds: int) -> Path:
    """The sliding portrait at 640×360 with a tone, ``seconds`` long."""
    portrait = read_image(ASTRONAUT)
    side = HEIGHT
    face = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_AREA)
    frames = seconds * FPS
    with av.open(str(path), mode="w", format="mp4") as out:
        video = out.add_stream("libx264", rate=FPS, options={"preset": "veryfast"})
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = out.add_stream("aac", rate=48_000, layout="mono")
        assert isinstance(audio, av.AudioStream)
        for index in range(frames):
            canvas = np.full((HEIGHT, WIDTH, 3), 90, dtype=np.uint8)
            left = (index // 2) % (WIDTH - side)
            canvas[:, left : left + side] = face
            frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        t = np.arange(48_000 * seconds, dtype=np.float32) / 48_000
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[np.newaxis, :]
        sound = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
        sound.sample_rate, sound.pts, sound.time_base = 48_000, 0, Fraction(1, 48_000)
        out.mux(audio.encode(sound))
        out.mux(audio.encode(None))
    return path


@dataclass(frozen=True)
class Run:
    """One job's wall time and, when it was split, where the time went."""

    wall_s: float
    segments: int = 0
    planner_s: float = 0.0
    stitch_s: float = 0.0
    segment_s: tuple[float, ...] = ()
    dispatch_s: tuple[float, ...] = ()
    workers: tuple[str, ...] = ()


def pin(stack: Stack) -> None:
    """Each worker on a core of its own (all its threads, those started later too)."""
    for core, process in enumerate(stack.workers.values()):
        subprocess.run(
            ["taskset", "-a", "-cp", str(core % (os.cpu_count() or 1)), str(process.pid)],
            check=True,
            capture_output=True,
        )


def submit(stack: Stack, video: Path) -> str:
    with stack.client() as client:
        files = {
            "source": ("source.png", io.BytesIO(ASTRONAUT.read_bytes()), "image/png"),
            "target": ("clip.mp4", io.BytesIO(video.read_bytes()), "video/mp4"),
        }
        response = client.post("/v1/jobs/face-swap", files=files)
        response.raise_for_status()
        return str(response.json()["id"])


def events(client: redis.Redis, job_id: str) -> list[tuple[str, dict[str, Any], float]]:
    return [
        (
            fields[b"type"].decode(),
            json.loads(fields[b"data"]),
            float(fields[b"ts"]),
        )
        for _id, fields in client.xrange(f"vv:events:{job_id}")
    ]


def record(client: redis.Redis, job_id: str) -> dict[str, Any]:
    return {k.decode(): json.loads(v) for k, v in client.hgetall(f"vv:job:{job_id}").items()}


def idle_gaps(records: list[dict[str, Any]], *, planned: float) -> tuple[float, ...]:
    """Each segment's wait from its worker's previous work (or the split) to its claim."""
    gaps = []
    for worker in {r["worker"] for r in records}:
        previous = planned
        for child in sorted(
            (r for r in records if r["worker"] == worker), key=lambda r: r["started_at"]
        ):
            gaps.append(max(0.0, child["started_at"] - previous))
            previous = child["finished_at"]
    return tuple(gaps)


def measure(stack: Stack, video: Path) -> Run:
    pin(stack)
    job_id = submit(stack, video)
    with stack.client() as client:
        job = wait_for_job(client, job_id, timeout_s=1800)
    if job["status"] != "succeeded":
        raise RuntimeError(f"the job failed: {job}\n{stack.logs()}")
    client = redis.Redis.from_url(stack.redis.url)
    parent = record(client, job_id)
    wall = parent["finished_at"] - parent["created_at"]
    children = parent.get("segments") or []
    if not children:
        return Run(wall_s=wall)
    stream = events(client, job_id)
    starts = [ts for kind, _data, ts in stream if kind == "started"]
    planned = next(ts for kind, data, ts in stream if data.get("stage") == "segments")
    records = [record(client, child) for child in children]
    return Run(
        wall_s=wall,
        segments=len(children),
        planner_s=planned - starts[0],
        stitch_s=parent["finished_at"] - starts[-1],
        segment_s=tuple(r["finished_at"] - r["started_at"] for r in records),
        dispatch_s=idle_gaps(records, planned=planned),
        workers=tuple(r["worker"] for r in records),
    )


def deployment(root: Path, *, workers: int, segment_s: float, video: Path, warm: Path) -> Run:
    settings = {**ONE_THREAD, "VISIOVOX_FLEET__SEGMENT_S": str(segment_s)}
    stack = Stack(root, settings=settings)
    root.mkdir()
    try:
        stack.start(workers=workers)
        pin(stack)
        warm_ids = [submit(stack, warm) for _ in range(workers)]
        with stack.client() as client:
            for job_id in warm_ids:
                wait_for_job(client, job_id, timeout_s=300)
        return measure(stack, video)
    finally:
        stack.stop()


SPIN = """
import time
started = time.perf_counter()
total = 0
for i in range(15_000_000):
    total += i * i
print(time.perf_counter() - started)
"""


def spin(cores: list[int]) -> list[float]:
    """Seconds a CPU-bound loop takes on each of ``cores`` at once."""
    runs = [
        subprocess.Popen(
            ["taskset", "-c", str(core), sys.executable, "-c", SPIN], stdout=subprocess.PIPE
        )
        for core in cores
    ]
    return [float(run.communicate()[0]) for run in runs]


def two_core_ceiling() -> float:
    """The best two-worker wall-time ratio this machine allows (0.5 on two free cores)."""
    alone = min(spin([0])[0] for _ in range(2))
    together = min(max(spin([0, 1])) for _ in range(2))
    return together / alone / 2


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=SECONDS)
    parser.add_argument("--segment-s", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    print(f"load before: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        video = make_video(folder / "video.mp4", seconds=args.seconds)
        warm = write_face_video(folder / "warm.mp4", read_image(ASTRONAUT), frames=5, side=128)
        started = time.perf_counter()
        configs = {
            "whole": (1, 10.0 * args.seconds),
            "one": (1, args.segment_s),
            "two": (2, args.segment_s),
        }
        runs: dict[str, list[Run]] = {name: [] for name in configs}
        # Interleaved, so a burst of other work on the machine hits every config alike.
        for round_ in range(args.rounds):
            for name, (workers, segment_s) in configs.items():
                root = folder / f"{name}{round_}"
                runs[name].append(
                    deployment(root, workers=workers, segment_s=segment_s, video=video, warm=warm)
                )
        whole, one, two = (min(runs[name], key=lambda run: run.wall_s) for name in configs)
        ceiling = two_core_ceiling()
        took = time.perf_counter() - started
    print(f"{args.seconds} s {WIDTH}x{HEIGHT} at {FPS} fps, fleet.segment_s {args.segment_s:g}")
    print("| run | wall s | segments | planner s | stitch s | vs 1 worker whole |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, samples in runs.items():
        print(f"{name}: " + ", ".join(f"{run.wall_s:.1f}" for run in samples) + " s")
    for label, run in (
        ("1 worker, whole", whole),
        ("1 worker, segmented", one),
        ("2 workers, segmented", two),
    ):
        print(
            f"| {label} | {run.wall_s:.1f} | {run.segments or '-'} | "
            f"{run.planner_s:.2f} | {run.stitch_s:.2f} | {run.wall_s / whole.wall_s:.3f} |"
        )
    print(f"2 workers / 1 worker segmented: {two.wall_s / one.wall_s:.3f}")
    print(f"two-core ceiling (CPU-bound loops, same run): {ceiling:.3f}")
    print("segments' seconds (2 workers): " + ", ".join(f"{t:.2f}" for t in two.segment_s))
    print(f"segmented / whole on 1 worker: {one.wall_s / whole.wall_s:.3f}")
    frames_per_segment = args.segment_s * FPS
    per_frame = statistics.median(one.segment_s) / frames_per_segment
    print(
        "for bench/fleet_sim.py: "
        f"--frame-s {per_frame:.5f} --dispatch-s {statistics.median(two.dispatch_s):.3f} "
        f"--planner-s {one.planner_s:.2f} --stitch-s-per-min "
        f"{one.stitch_s / (args.seconds / 60):.3f}"
    )
    print(f"segments' workers (2 workers): {two.workers}")
    print(f"load after: {load()}; took {took:.0f} s")


if __name__ == "__main__":
    main()
