"""Talking avatar: wall seconds per 10 s of speech, split by stage, on warm engines.

Runs the ``talking-avatar`` pipeline in-process (``LocalContext``) on the
bundled portrait at the defaults (512×512, 25 fps, mouth-warp engine): once
from text (Piper speaks it) and once from the same speech as a WAV upload (no
TTS). The baseline, measured in the same run, is the ``tts`` pipeline alone on
the same text: the ratio says what the video costs on top of the speech.
Every figure is the median of RUNS interleaved runs, scaled to 10 s of speech.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from visiovox.config import load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.lipsync.mouth_warp import MouthWarp
from visiovox.engines.pool import EnginePool
from visiovox.engines.tts.base import TTSEngine
from visiovox.pipelines.talking_avatar import spec as talking_avatar
from visiovox.pipelines.testing import LocalContext, run_pipeline
from visiovox.pipelines.tts import spec as tts

RUNS = 7
STAGES = ("speech", "analysis", "frames", "encode")
TEXT = (
    "Good morning, and welcome to the weekly update. The new build went out on Tuesday. "
    "Support tickets are down by a third, and the team is on track for the spring release."
)


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pool = EnginePool(settings=load_settings(models={"cache_dir": folder / "m"}), device="cpu")
        load_s, _ = timed(
            lambda: (
                pool.get("tts.piper", TTSEngine),  # type: ignore[type-abstract]  # mypy#4717
                pool.get("face.detect", FaceDetector),
                pool.get("face.landmarks", FaceLandmarker),
                pool.get("lipsync.mouth_warp", MouthWarp),
            )
        )
        run = _runner(folder, pool)
        warm = run(tts.SPEC, {"text": TEXT}, {})
        speech_file = folder / "speech.wav"
        speech_file.write_bytes(warm[2].output_path("speech.wav").read_bytes())
        run(talking_avatar.SPEC, {"text": TEXT}, {})
        # Interleaved, so the baseline and the pipeline see the same load on a shared machine.
        baseline, from_text, from_audio = [], [], []
        for _ in range(RUNS):
            baseline.append(run(tts.SPEC, {"text": TEXT}, {}))
            from_text.append(run(talking_avatar.SPEC, {"text": TEXT}, {}))
            from_audio.append(run(talking_avatar.SPEC, {}, {"audio": speech_file}))
        pool.close()

    load = os.getloadavg()
    print(
        f"engines loaded in {load_s:.2f} s; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    speech_s = statistics.median(r[1]["audio_duration_s"] for r in from_text)
    per10 = 10.0 / speech_s
    tts_s = statistics.median(r[0] for r in baseline) * per10
    print(f"speech {speech_s:.2f} s; median of {RUNS} runs; seconds per 10 s of speech")
    print("| run | " + " | ".join(STAGES) + " | total | × TTS alone |")
    print("| --- |" + " ---: |" * (len(STAGES) + 2))
    print(f"| tts pipeline alone (baseline) | {tts_s:.2f} | | | | {tts_s:.2f} | 1.00 |")
    for name, runs in (("text → MP4", from_text), ("WAV → MP4", from_audio)):
        stages = [statistics.median(r[1]["seconds"][s] for r in runs) * per10 for s in STAGES]
        total = statistics.median(r[0] for r in runs) * per10
        cells = " | ".join(f"{value:.2f}" for value in stages)
        print(f"| {name} | {cells} | {total:.2f} | {total / tts_s:.2f} |")


def _runner(
    folder: Path, pool: EnginePool
) -> Callable[[Any, dict[str, Any], dict[str, Path]], tuple[float, Any, LocalContext]]:
    def run(
        spec: Any, params: dict[str, Any], files: dict[str, Path]
    ) -> tuple[float, Any, LocalContext]:
        root = Path(tempfile.mkdtemp(dir=folder))
        ctx = LocalContext.with_files(root=root, pool=pool, files=files)
        seconds, result = timed(lambda: run_pipeline(spec, params, ctx))
        return seconds, result, ctx

    return run


if __name__ == "__main__":
    main()
