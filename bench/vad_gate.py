"""The speech check of lip-sync uploads: Silero VAD over 10 s of audio, against decoding it.

``decode_speech`` decodes an upload once at 44.1 kHz (the track), resamples
that to 16 kHz (the analysis) and then runs ``require_voice``. This times the
check on 10 s of Piper speech (it stops at the first confirmed speech) and on
10 s of a steady 220 Hz hum (no speech: the whole audio is scored), against
the baseline of that decoding of the same 10 s WAV, measured in the same run;
decoding the file twice (16 and 44.1 kHz), as it first did, is timed beside
it. Medians of RUNS interleaved runs on a warm engine.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tests.wer import SPOKEN_SENTENCE

from visiovox.config import load_settings
from visiovox.engines.pool import EnginePool
from visiovox.engines.tts.base import TTSEngine
from visiovox.engines.vad.base import VADEngine
from visiovox.errors import PipelineError
from visiovox.media.audio import decode_audio, encode_audio
from visiovox.media.resample import resample
from visiovox.pipelines.lip_sync.render import require_voice
from visiovox.pipelines.lip_sync.spec import VAD
from visiovox.pipelines.testing import LocalContext

RUNS = 15
RATE = 16_000
SECONDS = 10.0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pool = EnginePool(settings=load_settings(models={"cache_dir": folder / "m"}), device="cpu")
        pool.get(VAD, VADEngine)  # type: ignore[type-abstract]  # mypy#4717: warm, kept loaded
        speech = _ten_seconds(_spoken(pool))
        t = np.arange(int(RATE * SECONDS)) / RATE
        hum = (0.2 * sum(np.sin(2 * np.pi * 220.0 * k * t) / k for k in range(1, 11))).astype(
            np.float32
        )
        wav = folder / "speech.wav"
        encode_audio(speech, sample_rate=RATE, fmt="wav", path=wav)
        ctx = LocalContext(root=folder / "job", pool=pool)
        decode_s, twice_s, speech_s, hum_s = [], [], [], []
        for _ in range(RUNS):
            decode_s.append(_timed(lambda: _decode_and_resample(wav)))
            twice_s.append(_timed(lambda: _decode_twice(wav)))
            speech_s.append(_timed(lambda: require_voice(ctx, speech, "audio")))
            hum_s.append(_timed(lambda: _no_speech(ctx, hum)))
            ctx.release_engines()
        pool.close()

    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; median of {RUNS} runs")
    base = statistics.median(decode_s)
    print("| 10 s of audio | ms | × decoding it |")
    print("| --- | ---: | ---: |")
    print(f"| decode 44.1 kHz + resample to 16 kHz (baseline) | {base * 1000:.1f} | 1.00 |")
    rows = (
        ("decode twice, 16 kHz and 44.1 kHz", twice_s),
        ("VAD, speech (stops at first speech)", speech_s),
        ("VAD, hum", hum_s),
    )
    for name, runs in rows:
        value = statistics.median(runs)
        print(f"| {name} | {value * 1000:.1f} | {value / base:.2f} |")


def _spoken(pool: EnginePool) -> npt.NDArray[np.float32]:
    tts = pool.get("tts.piper", TTSEngine)  # type: ignore[type-abstract]  # mypy#4717
    try:
        samples = np.concatenate([chunk.samples for chunk in tts.synthesize(SPOKEN_SENTENCE)])
        return resample(samples, rate=tts.sample_rate, to=RATE)
    finally:
        pool.release("tts.piper")


def _ten_seconds(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    wanted = int(RATE * SECONDS)
    return np.tile(samples, wanted // len(samples) + 1)[:wanted].astype(np.float32)


def _decode_and_resample(path: Path) -> None:
    resample(decode_audio(path, sample_rate=44_100), rate=44_100, to=RATE)


def _decode_twice(path: Path) -> None:
    decode_audio(path, sample_rate=RATE)
    decode_audio(path, sample_rate=44_100)


def _no_speech(ctx: LocalContext, samples: npt.NDArray[np.float32]) -> None:
    try:
        require_voice(ctx, samples, "audio")
    except PipelineError as error:
        assert error.code == "no_speech"
        return
    raise AssertionError("the hum was taken for speech")


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
