"""Live face swap over ``WS /v1/live/face-swap``: answered fps, latency, gaps, drops, real time.

A one-worker stack (embedded Redis, gateway, worker). The video is
``tests/fixtures/astronaut.png`` scaled to FACE_SIDE px and sliding a pixel a
frame across a grey 640x480 canvas (back and forth), each frame a JPEG
(quality 90); the source face is ``tests/fixtures/grace_hopper.jpg``. A sender
thread streams the frames at 30 fps **paced in real time** as a webcam would,
while the main thread reads the answers. After WARMUP_S of frames (the engines
load and the tracker settles) the next ``--seconds`` of frames are measured:

- answered fps: answered frames of the window over the window's length;
- latency: from the frame sent to its swapped JPEG received (client clocks),
  beside the worker's own ``latency_ms`` (frame read from the stream → answer
  sent), so the relay's share shows;
- gaps: between the receive times of two answered frames;
- drops: frames of the window listed in ``dropped`` or never answered.

Baseline, same run, just before on the same worker: the window's frames as an
MP4 (30 fps, the same JPEG-decoded pictures) through the ``face-swap`` video
job; its frames per second are the job's frames over its run time on the
worker (``started_at`` to ``finished_at``: decode, detect, track, swap and
H.264 encode), so the live overhead is a ratio: answered fps over the job's
fps (the live side cannot pass its 30 fps input), and the live latency's
median over the job's time a frame.

``--load N`` measures twice on the same stack: first as the machine is, then
with N CPU-bound processes beside it (``bench/hogs.py``).

Last, in this process: the ``inswapper`` engine's cost a frame (``apply`` on
the window's frames, the face found beforehand) **on the test-built graph**
of ``tests/unit/engines/face/test_swap_inswapper.py`` (the real model's inputs
and outputs, a few arithmetic nodes inside: its pre- and post-processing and
paste-back, not the 128 px network), beside the warp engine's on the same
frames.

    .venv/bin/python -m bench.live_face_swap [--seconds 15] [--load 2]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import yaml
from tests.faces import find_face
from tests.integration.stack import Stack, wait_for_job
from tests.unit.engines.face.test_swap_inswapper import arcface_graph, entry, swapper_graph
from websockets.sync.client import ClientConnection, connect

from bench.hogs import Hogs, load_average
from visiovox.config import load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.swap_base import FaceSwapEngine
from visiovox.engines.face.swap_inswapper import InSwapper
from visiovox.engines.pool import EnginePool
from visiovox.pipelines.face_swap.spec import DETECT, LANDMARKS, WARP

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
WIDTH, HEIGHT, FPS = 640, 480, 30
FACE_SIDE = 360
WARMUP_S = 3
JPEG_QUALITY = 90
TAIL_S = 3.0  # how long the last frames' answers are awaited


def video(seconds: int) -> list[bytes]:
    """The astronaut sliding a pixel a frame on a grey canvas, as JPEGs."""
    astronaut = cv2.imread(str(FIXTURES / "astronaut.png"), cv2.IMREAD_COLOR)
    face = cv2.resize(astronaut, (FACE_SIDE, FACE_SIDE), interpolation=cv2.INTER_AREA)
    travel = WIDTH - FACE_SIDE
    top = (HEIGHT - FACE_SIDE) // 2
    frames = []
    for index in range(seconds * FPS):
        step = index % (2 * travel)
        left = step if step < travel else 2 * travel - step
        canvas = np.full((HEIGHT, WIDTH, 3), 110, np.uint8)
        canvas[top : top + FACE_SIDE, left : left + FACE_SIDE] = face
        ok, data = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        assert ok
        frames.append(bytes(data.tobytes()))
    return frames


def write_mp4(frames: list[bytes], path: Path) -> Path:
    """The frames, decoded, as a 30 fps MP4 (the video job's target)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    for data in frames:
        writer.write(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))
    writer.release()
    return path


class Sender(threading.Thread):
    """Sends every frame at its moment of a 30 fps clock, noting when each went."""

    def __init__(self, socket: ClientConnection, frames: list[bytes]) -> None:
        super().__init__(daemon=True)
        self._socket = socket
        self._frames = frames
        self.sent_at: list[float] = []

    def run(self) -> None:
        started = time.monotonic()
        for index, data in enumerate(self._frames):
            delay = started + index / FPS - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.sent_at.append(time.monotonic())
            self._socket.send(data)


@dataclass
class Stream:
    """What came back for one streamed video: answer times by seq, the seqs listed as dropped."""

    sent_at: list[float]
    answered_at: dict[int, float]
    dropped: set[int]
    faces: dict[int, int]
    server_stats: list[dict[str, Any]]
    worker_ms: dict[int, float]


def stream(url: str, source: bytes, frames: list[bytes]) -> Stream:
    """One live session: the source, then every frame real-time paced; answers read as they come."""
    answered_at: dict[int, float] = {}
    faces: dict[int, int] = {}
    worker_ms: dict[int, float] = {}
    dropped: set[int] = set()
    stats: list[dict[str, Any]] = []
    last = len(frames) - 1
    with connect(url, max_size=None) as socket:
        socket.send(json.dumps({"type": "start_session", "max_fps": FPS}))
        socket.send(source)
        while json.loads(socket.recv(timeout=120))["type"] != "ready":
            pass
        sender = Sender(socket, frames)
        sender.start()
        pending: int | None = None
        deadline = float("inf")
        while time.monotonic() < deadline and last not in answered_at and last not in dropped:
            try:
                message = socket.recv(timeout=max(0.05, min(deadline - time.monotonic(), 30)))
            except TimeoutError:
                break
            now = time.monotonic()
            if isinstance(message, bytes):
                if pending is not None:
                    answered_at[pending] = now
                    pending = None
            else:
                event = json.loads(message)
                if event["type"] == "frame":
                    pending = event["seq"]
                    faces[pending] = event["faces"]
                    worker_ms[pending] = event["latency_ms"]
                elif event["type"] == "dropped":
                    dropped.update(event["seqs"])
                elif event["type"] == "stats":
                    stats.append(event)
                elif event["type"] == "error":
                    raise RuntimeError(event)
            if not sender.is_alive() and deadline == float("inf"):
                deadline = now + TAIL_S
        sender.join()
        socket.send(json.dumps({"type": "end_session"}))
    return Stream(sender.sent_at, answered_at, dropped, faces, stats, worker_ms)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def video_job(client: httpx.Client, source: bytes, target: Path) -> dict[str, Any]:
    """The baseline: the frames as a ``face-swap`` video job; its fps on the worker."""
    files = {
        "source": ("grace_hopper.jpg", source, "image/jpeg"),
        "target": ("clip.mp4", target.read_bytes(), "video/mp4"),
    }
    submitted = time.monotonic()
    response = client.post("/v1/jobs/face-swap", files=files)
    response.raise_for_status()
    job = wait_for_job(client, response.json()["id"], timeout_s=600)
    round_trip = time.monotonic() - submitted
    if job["status"] != "succeeded":
        raise RuntimeError(job)
    ran = (
        datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"])
    ).total_seconds()
    frames = int(job["result"]["frames"])
    return {"frames": frames, "fps": frames / ran, "round_trip_fps": frames / round_trip}


@dataclass
class Phase:
    """One measurement beside ``hogs`` busy processes."""

    hogs: int
    figures: dict[str, float]
    baseline: dict[str, Any]
    load: str


def figures(result: Stream, *, first: int) -> dict[str, float]:
    """The window's figures: frames from ``first`` on."""
    window = range(first, len(result.sent_at))
    answered = [seq for seq in window if seq in result.answered_at]
    latencies = [1000 * (result.answered_at[seq] - result.sent_at[seq]) for seq in answered]
    worker = [result.worker_ms[seq] for seq in answered]
    times = sorted(result.answered_at[seq] for seq in answered)
    gaps = [1000 * (b - a) for a, b in itertools.pairwise(times)]
    seconds = len(window) / FPS
    return {
        "frames": len(window),
        "answered": len(answered),
        "fps": len(answered) / seconds,
        "with_face": sum(1 for seq in answered if result.faces[seq] > 0),
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "worker_p50": statistics.median(worker),
        "worker_p95": percentile(worker, 0.95),
        "worker_p99": percentile(worker, 0.99),
        "gap_p50": statistics.median(gaps),
        "gap_p99": percentile(gaps, 0.99),
        "gap_max": max(gaps),
        "listed_dropped": sum(1 for seq in window if seq in result.dropped),
        "lost": len(window) - len(answered),
    }


def measure(
    client: httpx.Client, url: str, source: bytes, frames: list[bytes], clip: Path, hogs: int
) -> Phase:
    """The video job, then the live session (it holds the one worker while it lasts)."""
    with Hogs(hogs):
        baseline = video_job(client, source, clip)
        result = stream(url, source, frames)
        load = load_average()
    return Phase(hogs, figures(result, first=WARMUP_S * FPS), baseline, load)


def report(phase: Phase) -> None:
    f, b = phase.figures, phase.baseline
    print(f"\n### beside {phase.hogs} CPU-bound processes; load average {phase.load} (at the end)")
    print("| measure | value |\n| --- | ---: |")
    print(f"| frames sent in the window (30 fps) | {f['frames']:.0f} |")
    print(f"| frames answered / s | {f['fps']:.1f} |")
    print(f"| answered with a face swapped | {f['with_face']:.0f} of {f['answered']:.0f} |")
    print(
        f"| latency sent → swapped JPEG received p50 / p95 / p99 ms | "
        f"{f['p50']:.1f} / {f['p95']:.1f} / {f['p99']:.1f} |"
    )
    print(
        f"| worker's latency_ms (frame read → answer sent) p50 / p95 / p99 ms | "
        f"{f['worker_p50']:.1f} / {f['worker_p95']:.1f} / {f['worker_p99']:.1f} |"
    )
    print(
        f"| gap between answered frames p50 / p99 / max ms | "
        f"{f['gap_p50']:.1f} / {f['gap_p99']:.1f} / {f['gap_max']:.1f} |"
    )
    print(f"| dropped (listed) / not answered | {f['listed_dropped']:.0f} / {f['lost']:.0f} |")
    print(f"| `face-swap` video job, same frames: fps on the worker | {b['fps']:.1f} |")
    print(f"| `face-swap` video job: fps submit → succeeded | {b['round_trip_fps']:.1f} |")
    print(
        f"| live answered fps / video job fps (live is capped by its 30 fps input) | "
        f"{f['fps'] / b['fps']:.2f} |"
    )
    print(
        f"| live latency p50 / video job's time a frame ({1000 / b['fps']:.1f} ms) | "
        f"{f['p50'] * b['fps'] / 1000:.2f} |"
    )


def engine_costs(frames: list[bytes], source: bytes) -> dict[str, list[float]]:
    """Milliseconds ``apply`` takes a frame: inswapper on its test-built graph, and warp."""
    settings = load_settings()
    pool = EnginePool(settings=settings, device="cpu")
    detector = pool.get(DETECT, FaceDetector)
    landmarker = pool.get(LANDMARKS, FaceLandmarker)
    pictures = [rgb(data) for data in frames]
    faces = [find_face(detector, landmarker, picture) for picture in pictures]
    source_picture = rgb(source)
    source_face = find_face(detector, landmarker, source_picture)
    costs: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        engines = {"warp": pool.get(WARP, FaceSwapEngine), "inswapper": graph_inswapper(Path(tmp))}  # type: ignore[type-abstract]  # mypy#4717
        for name, engine in engines.items():
            prepared = engine.prepare(source_picture, source_face)
            costs[name] = []
            for picture, face in zip(pictures, faces, strict=True):
                began = time.perf_counter()
                mode = settings.face.video_blend  # the live session's blend
                engine.apply(prepared, target=picture, target_face=face, mode=mode)
                costs[name].append(1000 * (time.perf_counter() - began))
    return costs


def rgb(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))


def graph_inswapper(root: Path) -> FaceSwapEngine:
    """The inswapper engine on the unit tests' graphs (not the real model's weights)."""
    rng = np.random.default_rng(7)
    cache = root / "cache"
    swap_file = cache / "inswapper-128" / "inswapper_128.onnx"
    embed_file = cache / "arcface-w600k-r50" / "w600k_r50.onnx"
    for folder in (swap_file.parent, embed_file.parent):
        folder.mkdir(parents=True)
    swapper_graph(swap_file, rng.standard_normal((512, 512)).astype(np.float32))
    arcface_graph(embed_file, rng.standard_normal((3, 512)).astype(np.float32))
    manifest = root / "models.yaml"
    models = [entry("inswapper-128", swap_file), entry("arcface-w600k-r50", embed_file)]
    manifest.write_text(yaml.safe_dump({"models": models}))
    settings = load_settings(models={"cache_dir": cache, "manifest": manifest, "offline": True})
    engine = InSwapper(settings=settings, device="cpu")
    engine.load()
    return engine


def report_engines(frames: list[bytes], source: bytes) -> None:
    costs = engine_costs(frames, source)
    warp = statistics.median(costs["warp"])
    print(f"\n### swap engines' `apply` a frame, in this process; load average {load_average()}")
    print("| engine | p50 ms | p99 ms | × warp (p50) |\n| --- | ---: | ---: | ---: |")
    for name, label in (
        ("warp", "warp"),
        ("inswapper", "inswapper, **test-built graph** (not the real network)"),
    ):
        p50 = statistics.median(costs[name])
        print(f"| {label} | {p50:.1f} | {percentile(costs[name], 0.99):.1f} | {p50 / warp:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15, help="the measured window")
    parser.add_argument(
        "--load", type=int, default=0, help="then measure again beside N CPU-bound processes"
    )
    args = parser.parse_args()
    frames = video(WARMUP_S + args.seconds)
    source = (FIXTURES / "grace_hopper.jpg").read_bytes()
    idle_at_start = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = write_mp4(frames[WARMUP_S * FPS :], folder / "clip.mp4")
        stack = Stack(folder / "stack").start(workers=1)
        try:
            with httpx.Client(base_url=stack.base_url, timeout=120) as client:
                url = stack.base_url.replace("http", "ws", 1) + "/v1/live/face-swap"
                stream(url, source, frames[: WARMUP_S * FPS])  # loads the engines
                phases = [
                    measure(client, url, source, frames, clip, hogs)
                    for hogs in sorted({0, args.load})
                ]
        finally:
            stack.stop()
    print(
        f"{WIDTH}x{HEIGHT} JPEG q{JPEG_QUALITY} at {FPS} fps, {args.seconds} s measured "
        f"after {WARMUP_S} s; load average before the stack started {idle_at_start}"
    )
    for phase in phases:
        report(phase)
    report_engines(frames[WARMUP_S * FPS :], source)


if __name__ == "__main__":
    main()
