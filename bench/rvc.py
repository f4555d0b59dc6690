"""RVC engine's per-second cost on its stand-in graphs (not the real models: see below).

The three ONNX models are the tests' stand-ins (``tests/unit/engines/voice/
rvc_graphs.py``: a strided Conv for ContentVec, a MatMul for RMVPE, a MatMul
for the synthesizer) with the real models' input and output shapes, so the
figures are the cost of this engine's own pre- and post-processing (high-pass,
RMVPE's log-mel and decoding, retrieval, doubling, protect, coarse pitch,
trimming) plus trivial graphs: a floor under the real RVC cost, which the
real ContentVec (a 12-layer transformer), RMVPE (a U-Net with a BiGRU) and
synthesizer (HiFi-GAN NSF) dominate. Each figure is milliseconds per second
of input audio (median of ``--repeats``), per stage and in total; the
baseline, measured in the same run, is the same conversion without a feature
bank, so the retrieval's share is a ratio. The machine's load average is
printed beside them (other work shares this machine).

Run: ``.venv/bin/python -m bench.rvc``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from tests.unit.engines.voice.rvc_graphs import stand_in_settings, synthesizer_graph

from visiovox.engines.voice.rvc import PAD_S, RvcConverter, RvcSettings, RvcVoice
from visiovox.engines.voice.rvc_features import double_frames, highpass, retrieve
from visiovox.engines.voice.rvc_pitch import SAMPLE_RATE, coarse_pitch

BANK_ROWS = 10_000  # a typical index of a 10-minute training set


def _speech(seconds: float) -> np.ndarray:
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    return (0.3 * np.sin(phase) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def _ms_per_s(samples: list[float], seconds: float) -> float:
    return statistics.median(samples) * 1000.0 / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=[2.0, 10.0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        engine = RvcConverter(settings=stand_in_settings(root), device="cpu")
        engine.load()
        model = synthesizer_graph(root / "voice.onnx", sample_rate=40_000)
        bank_path = root / "bank.npy"
        bank = np.random.default_rng(0).standard_normal((BANK_ROWS, 768)).astype(np.float32)
        np.save(bank_path, bank)
        plain = RvcVoice(model=model, sample_rate=40_000)
        banked = RvcVoice(model=model, sample_rate=40_000, bank=bank_path)
        knobs = RvcSettings()
        print(f"load average before: {'/'.join(f'{v:.2f}' for v in os.getloadavg())}")
        print("RVC on stand-in graphs (ms per second of audio, median):")
        for seconds in args.seconds:
            audio = _speech(seconds)
            padded = np.pad(audio, SAMPLE_RATE * PAD_S, mode="reflect")
            stages: dict[str, list[float]] = {
                name: [] for name in ("highpass", "rmvpe", "content", "retrieval", "post")
            }
            totals: dict[str, list[float]] = {"no bank": [], f"bank {BANK_ROWS}": []}
            for voice, key in ((plain, "no bank"), (banked, f"bank {BANK_ROWS}")):
                engine.convert(audio, voice=voice, knobs=knobs)  # session and bank loaded
                for _ in range(args.repeats):
                    started = time.perf_counter()
                    engine.convert(audio, voice=voice, knobs=knobs)
                    totals[key].append(time.perf_counter() - started)
            for _ in range(args.repeats):
                marks = [time.perf_counter()]
                highpass(audio)
                marks.append(time.perf_counter())
                f0 = engine.f0(padded)
                marks.append(time.perf_counter())
                feats = engine.content(padded)
                marks.append(time.perf_counter())
                retrieve(feats, bank, index_rate=0.75)
                marks.append(time.perf_counter())
                double_frames(feats)
                coarse_pitch(f0)
                marks.append(time.perf_counter())
                for name, start, end in zip(stages, marks, marks[1:], strict=False):
                    stages[name].append(end - start)
            baseline = _ms_per_s(totals["no bank"], seconds)
            with_bank = _ms_per_s(totals[f"bank {BANK_ROWS}"], seconds)
            print(f"  {seconds:g} s input:")
            print(f"    total, no bank        {baseline:8.1f} ms/s (RTF {baseline / 1000:.3f})")
            print(
                f"    total, {BANK_ROWS}-row bank {with_bank:8.1f} ms/s "
                f"(x{with_bank / baseline:.2f} the no-bank baseline)"
            )
            for name, samples in stages.items():
                print(f"    stage {name:<16}{_ms_per_s(samples, seconds):8.1f} ms/s")
        print(f"load average after: {'/'.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
