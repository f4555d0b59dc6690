"""Visemes: lip closure on p/b/m with and without visemes, and the visemes pipeline's cost.

Closure. Piper speaks TEXT (36 bilabials); its phonemes and their times are
known (the alignment output), so each p, b and m has a start and an end. The
mouth-warp track at 25 fps is made twice from the same speech: from its energy
alone (``drive.mouth_track``, what ``mouth_warp`` did before) and from the
viseme timeline (``viseme_drive.viseme_mouth_track``). A frame is *closed* when
the track's opening is at most CLOSED; counted at each bilabial's onset frame
(the frame holding its start) and at its middle. The middle frames are also
rendered on the bundled portrait and dlib measures the inner-lip gap: closed
when within 1 px of the gap at opening 0. Rounding: the mean rounding on frames
that are mostly O or U, and on frames mostly I, E or SS (1 rounded, -1 spread).

Cost. The ``visemes`` pipeline in-process (``LocalContext``, warm engines):
from text (Piper speaks, then the phoneme timeline) and from the same speech as
a WAV upload (decoded, HeadAudio's classifier); the baseline in the same run is
the ``tts`` pipeline on the same text. Also the timeline step alone per path.
Medians of RUNS interleaved runs, per second of audio. And what the patched
voice graph (the phoneme-duration output) costs Piper: the same phoneme ids
through a session of the pinned file and one of the patched graph, interleaved.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from visiovox.assets import default_avatar
from visiovox.config import load_settings
from visiovox.engines.face.detect import FaceDetector
from visiovox.engines.face.landmarks import FaceLandmarker
from visiovox.engines.face.types import Face
from visiovox.engines.lipsync.base import SPEECH_RATE
from visiovox.engines.lipsync.drive import MouthTrack, mouth_track
from visiovox.engines.lipsync.mouth_rig import rig_mouth
from visiovox.engines.lipsync.viseme_drive import viseme_mouth_track
from visiovox.engines.pool import EnginePool
from visiovox.engines.tts.base import SpeechChunk, TTSEngine
from visiovox.engines.visemes.classifier import HeadAudioVisemes
from visiovox.engines.visemes.oculus import VISEME_INDEX
from visiovox.engines.visemes.speech import speech_timeline
from visiovox.media.image import read_image
from visiovox.media.resample import resample
from visiovox.pipelines.testing import LocalContext, run_pipeline
from visiovox.pipelines.tts import spec as tts
from visiovox.pipelines.visemes import spec as visemes

FPS = 25.0
CLOSED = 0.1
RUNS = 5
TEXT = (
    "Bob bought a big map. Mum made apple pie for Pam. Please keep the baby bumble bee "
    "in the blue box. Maybe both brothers will compete, but Molly must probably stop."
)


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def bilabials(chunks: list[SpeechChunk]) -> list[tuple[float, float]]:
    """(start, end) seconds of every p, b and m spoken."""
    spans: list[tuple[float, float]] = []
    offset = 0.0
    for chunk in chunks:
        time_s = offset
        for symbol, seconds in chunk.phonemes:
            if symbol in "pbm":
                spans.append((time_s, time_s + seconds))
            time_s += seconds
        offset += chunk.duration_s
    return spans


def lip_gap(face: Face) -> float:
    return float(np.mean(face.points[[67, 66, 65], 1] - face.points[[61, 62, 63], 1]))


def closure(pool: EnginePool) -> None:
    engine = pool.get("tts.piper", TTSEngine)  # type: ignore[type-abstract]  # mypy#4717
    chunks = list(engine.synthesize(TEXT))
    speech = np.concatenate([chunk.samples for chunk in chunks])
    duration_s = len(speech) / engine.sample_rate
    frames = math.ceil(duration_s * FPS)
    energy = mouth_track(
        resample(speech, rate=engine.sample_rate, to=SPEECH_RATE),
        sample_rate=SPEECH_RATE,
        fps=FPS,
        frames=frames,
    )
    timeline = speech_timeline(chunks)
    shaped = viseme_mouth_track(timeline, energy)
    spans = bilabials(chunks)
    onsets = [min(frames - 1, int(start * FPS)) for start, _ in spans]
    middles = [min(frames - 1, int((start + end) / 2 * FPS)) for start, end in spans]

    detector = pool.get("face.detect", FaceDetector)
    landmarker = pool.get("face.landmarks", FaceLandmarker)
    portrait = read_image(default_avatar())
    face = landmarker.landmarks(portrait, detector.detect(portrait)[0])
    rig = rig_mouth(portrait, face)
    assert rig is not None

    def gap(opening: float, rounding: float) -> float:
        image = rig.apply(portrait, opening=opening, rounding=rounding)
        return lip_gap(landmarker.landmarks(image, detector.detect(image)[0]))

    shut_gap = gap(0.0, 0.0)
    weights = timeline.sample(FPS).weights[:frames]
    rounded = weights[:, [VISEME_INDEX["O"], VISEME_INDEX["U"]]].sum(axis=1) >= 0.5
    spread = weights[:, [VISEME_INDEX[v] for v in ("I", "E", "SS")]].sum(axis=1) >= 0.5

    print(f"speech {duration_s:.2f} s, {len(spans)} bilabials, {frames} frames at {FPS:g} fps")
    print(f"closed: opening <= {CLOSED}; rendered: lip gap within 1 px of {shut_gap:.1f} px")
    print(
        "| track | closed at onset | closed at middle | rendered closed at middle "
        "| rounding on O/U frames | on I/E/SS frames |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, track in (("energy only (before)", energy), ("visemes", shaped)):
        at_onset = sum(track.opening[i] <= CLOSED for i in onsets)
        at_middle = sum(track.opening[i] <= CLOSED for i in middles)
        rendered = sum(
            gap(float(track.opening[i]), float(track.rounding[i])) <= shut_gap + 1.0
            for i in middles
        )
        roundings = f"{_mean(track, rounded):+.2f} | {_mean(track, spread):+.2f}"
        print(
            f"| {name} | {at_onset}/{len(spans)} | {at_middle}/{len(spans)} "
            f"| {rendered}/{len(spans)} | {roundings} |"
        )
    pool.release("tts.piper")


def _mean(track: MouthTrack, frames: np.ndarray) -> float:
    return float(np.mean(track.rounding[frames])) if frames.any() else float("nan")


def cost(pool: EnginePool, folder: Path) -> None:
    def run(
        spec: Any, params: dict[str, Any], files: dict[str, Path]
    ) -> tuple[float, Any, LocalContext]:
        root = Path(tempfile.mkdtemp(dir=folder))
        ctx = (
            LocalContext.with_files(root=root, pool=pool, files=files)
            if files
            else LocalContext(root=root, pool=pool)
        )
        seconds, result = timed(lambda: run_pipeline(spec, params, ctx))
        return seconds, result, ctx

    _, first, ctx = run(visemes.SPEC, {"text": TEXT}, {})
    speech_file = folder / "speech.wav"
    speech_file.write_bytes(ctx.output_path("speech.wav").read_bytes())
    audio_s = first["duration_s"]
    engine = pool.get("tts.piper", TTSEngine)  # type: ignore[type-abstract]  # mypy#4717
    chunks = list(engine.synthesize(TEXT))
    speech = np.concatenate([chunk.samples for chunk in chunks])
    hearing = pool.get("visemes.headaudio", HeadAudioVisemes)
    figures: dict[str, list[float]] = {
        k: [] for k in ("tts", "text", "audio", "phoneme step", "heard step")
    }
    for _ in range(RUNS):  # interleaved: every figure sees the same load
        figures["tts"].append(run(tts.SPEC, {"text": TEXT}, {})[0])
        figures["text"].append(run(visemes.SPEC, {"text": TEXT}, {})[0])
        figures["audio"].append(run(visemes.SPEC, {}, {"audio": speech_file})[0])
        figures["phoneme step"].append(timed(lambda: speech_timeline(chunks).to_json(30.0))[0])
        figures["heard step"].append(
            timed(lambda: hearing.timeline(speech, sample_rate=engine.sample_rate).to_json(30.0))[0]
        )
    per_s = {name: statistics.median(values) / audio_s for name, values in figures.items()}
    print(f"\naudio {audio_s:.2f} s; median of {RUNS} runs; milliseconds per second of audio")
    print("| run | ms per s of audio | × tts pipeline |")
    print("| --- | ---: | ---: |")
    rows = (
        ("tts pipeline (baseline)", "tts"),
        ("visemes from text (Piper + phonemes)", "text"),
        ("visemes from a WAV upload (HeadAudio)", "audio"),
        ("phoneme timeline + JSON alone", "phoneme step"),
        ("HeadAudio timeline + JSON alone (22.05 kHz in)", "heard step"),
    )
    for label, key in rows:
        print(f"| {label} | {per_s[key] * 1000:.1f} | {per_s[key] / per_s['tts']:.2f} |")


def patched_graph(pool: EnginePool) -> None:
    from piper import PiperConfig, PiperVoice, SynthesisConfig

    from visiovox.engines.tts.piper import with_duration_output
    from visiovox.models.onnx_session import create_session

    settings = pool.settings
    (model,) = Path(settings.models.cache_dir, "piper-joe-medium").glob("*.onnx")
    config = PiperConfig.from_dict(json.loads(model.with_name(model.name + ".json").read_text()))
    voices = {
        name: PiperVoice(
            session=create_session(source, settings=settings, device="cpu", warmup=False).session,
            config=config,
        )
        for name, source in (("pinned file", model), ("patched graph", with_duration_output(model)))
    }
    phoneme_ids = [
        voices["pinned file"].phonemes_to_ids(p) for p in voices["pinned file"].phonemize(TEXT)
    ]
    synthesis = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    seconds: dict[str, list[float]] = {name: [] for name in voices}
    for _ in range(RUNS + 1):
        for name, voice in voices.items():
            seconds[name].append(
                timed(lambda v=voice: [v.phoneme_ids_to_audio(i, synthesis) for i in phoneme_ids])[
                    0
                ]
            )
    pinned = statistics.median(seconds["pinned file"][1:])
    patched = statistics.median(seconds["patched graph"][1:])
    print(
        f"\nPiper on the same phoneme ids, median of {RUNS}: pinned file {pinned:.3f} s, "
        f"patched graph {patched:.3f} s ({patched / pinned:.2f}x)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pool = EnginePool(settings=load_settings(models={"cache_dir": folder / "m"}), device="cpu")
        closure(pool)
        cost(pool, folder)
        patched_graph(pool)
        pool.close()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
