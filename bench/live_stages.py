"""The live turn's stages alone, as the machine is and beside busy processes, per thread setting.

In-process, one engine pool per setting (a fresh process each, since native
thread pools are sized at load): Whisper transcribes a synthesised 3 s
question (``language`` "en", the utterance window), the model answers it up to
the end of its first sentence, Piper speaks that sentence. Median of 7 runs
as the machine is, then beside N CPU-bound processes (``bench/hogs.py``).

    .venv/bin/python -m bench.live_stages [--load 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.hogs import Hogs, load_average

RUNS = 7
QUESTION = "What is the capital city of France, and why is it famous?"
SYSTEM = "You are a helpful voice assistant. Answer in one short sentence."
# (stt.cpu_threads, onnx.intra_op_threads); 0: the library's own default.
SETTINGS = ((0, 0), (1, 0), (2, 0), (0, 1))


def stages(stt_threads: int, onnx_threads: int, hogs: int) -> list[list[float]]:
    """Median seconds of STT, LLM to the first sentence, TTS: idle, then beside ``hogs``."""
    from visiovox.config import load_settings
    from visiovox.engines.llm.base import ChatMessage, LLMEngine
    from visiovox.engines.pool import EnginePool
    from visiovox.engines.stt.base import STTEngine
    from visiovox.engines.tts.base import TTSEngine

    settings = load_settings(
        models={"cache_dir": Path(tempfile.mkdtemp()) / "models"},
        stt={"cpu_threads": stt_threads},
        onnx={"intra_op_threads": onnx_threads},
    )
    pool = EnginePool(settings=settings, device="cpu")
    tts = pool.get("tts.piper", TTSEngine)  # type: ignore[type-abstract]
    stt = pool.get("stt.whisper", STTEngine)  # type: ignore[type-abstract]
    llm = pool.get("llm.llama_cpp", LLMEngine)  # type: ignore[type-abstract]
    audio = np.concatenate([c.samples for c in tts.synthesize(QUESTION)])
    length = int(len(audio) * 16_000 / tts.sample_rate)
    heard = np.interp(np.linspace(0, len(audio) - 1, length), np.arange(len(audio)), audio)
    question = heard.astype(np.float32)

    def turn() -> tuple[float, float, float]:
        started = time.perf_counter()
        text = stt.transcribe(question, language="en", utterance=True).text
        transcribed = time.perf_counter()
        messages = [
            ChatMessage(role="system", content=SYSTEM),
            ChatMessage(role="user", content=text),
        ]
        sentence = ""
        for piece in llm.chat(messages, max_tokens=40, temperature=0.0):
            sentence += piece
            if "." in piece:
                break
        generated = time.perf_counter()
        list(tts.synthesize(sentence))
        return transcribed - started, generated - transcribed, time.perf_counter() - generated

    turn()
    medians = []
    for busy in (0, hogs):
        with Hogs(busy):
            runs = [turn() for _ in range(RUNS)]
        medians.append([statistics.median(run[i] for run in runs) for i in range(3)])
    pool.close()
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--load", type=int, default=2, help="busy processes beside the second run")
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(stages(*args.child, hogs=args.load)))
        return
    print(f"median of {RUNS} runs; ms idle → beside {args.load} CPU-bound processes")
    print("| stt threads | onnx threads | Whisper | model, first sentence | Piper | load |")
    print("| ---: | ---: | ---: | ---: | ---: | --- |")
    for stt_threads, onnx_threads in SETTINGS:
        command = [sys.executable, "-m", "bench.live_stages", "--load", str(args.load)]
        command += ["--child", str(stt_threads), str(onnx_threads)]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        idle, busy = json.loads(output.strip().splitlines()[-1])
        cells = " | ".join(
            f"{a * 1000:.0f} → {b * 1000:.0f}" for a, b in zip(idle, busy, strict=True)
        )
        print(f"| {stt_threads} | {onnx_threads} | {cells} | {load_average()} |")


if __name__ == "__main__":
    main()
