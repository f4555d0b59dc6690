"""SmolLM2-135M tokens per second in-process and through /v1/chat/completions, and a spoken turn.

In-process: the llama.cpp engine from the pool, greedy, the same prompt each run.
API: the official ``openai`` client streaming from a one-worker stack (the
engine already loaded). Relayed: the same client against a second stack whose
worker uses ``llm.openai_http`` with the first stack as its server. Spoken turn:
``/v1/assistant/sessions/{id}/turns?wait=true`` with a synthesised question; the
stage timings come from the job's result.

``--load N`` adds the in-process figures beside N CPU-bound processes
(``bench/hogs.py``), for the engine as a worker runs a chat job (threads fitted
to the free cores, the process at ``worker.cpu_priority``: its autogroup's nice
value, which is the bench's session's, put back after; needs root), as
configured at the normal share, and with a fixed thread count of one per core
(the behaviour before fitting), each against its own figure on the machine as
it was, next to the fair-share floor (how much any one-thread loop slows beside
the same processes).

    .venv/bin/python -m bench.llm [--load 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import openai
from tests.integration.stack import Stack

from bench.hogs import Hogs, fair_share_slowdown, load_average
from visiovox.config import load_settings
from visiovox.engines.free_cores import free_cores
from visiovox.engines.llm.base import ChatMessage, LLMEngine, Usage
from visiovox.engines.pool import EnginePool
from visiovox.worker.cpu_priority import CpuPriority

PROMPT = "Write a long story about a dragon who learns to cook."
MAX_TOKENS = 200
RUNS = 3


def in_process(engine: LLMEngine) -> tuple[int, float, float]:
    """Completion tokens, seconds to the first token, seconds in all."""
    usage = Usage()
    started = time.perf_counter()
    first = 0.0
    messages = [ChatMessage(role="user", content=PROMPT)]
    for _piece in engine.chat(messages, max_tokens=MAX_TOKENS, temperature=0.0, usage=usage):
        first = first or time.perf_counter() - started
    return usage.completion_tokens, first, time.perf_counter() - started


def through_api(client: openai.OpenAI) -> tuple[int, float, float]:
    started = time.perf_counter()
    first = 0.0
    pieces = 0
    stream = client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=MAX_TOKENS,
        temperature=0,
        stream=True,
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            first = first or time.perf_counter() - started
            pieces += 1
    return pieces, first, time.perf_counter() - started


def report(label: str, runs: list[tuple[int, float, float]]) -> None:
    tokens, first, total = (statistics.median(run[i] for run in runs) for i in range(3))
    print(
        f"{label:<28} {tokens:5.0f} tokens  first {first * 1000:6.0f} ms  "
        f"{tokens / total:6.1f} tok/s overall  {(tokens - 1) / (total - first):6.1f} tok/s decode"
    )


def spoken_turn(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=120) as client:
        speech = client.post(
            "/v1/audio/speech",
            json={"model": "tts-1", "voice": "joe", "input": "What is the capital of France?"},
        )
        session = client.post("/v1/assistant/sessions", json={}).json()["id"]
        for _ in range(2):  # the first turn loads Whisper, the LLM and Piper
            started = time.perf_counter()
            turn = client.post(
                f"/v1/assistant/sessions/{session}/turns",
                params={"wait": "true"},
                files={"audio": ("q.mp3", speech.content, "audio/mpeg")},
            )
            elapsed = time.perf_counter() - started
        job = client.get(f"/v1/jobs/{turn.headers['x-job-id']}").json()
    timings = ", ".join(
        f"{name} {value * 1000:.0f} ms" for name, value in job["result"]["timings"].items()
    )
    print(f"spoken turn (warm): HTTP round trip {elapsed * 1000:.0f} ms; in the job: {timings}")


def beside_hogs(folder: Path, hogs: int) -> None:
    """In-process tokens per second as the machine is and beside ``hogs`` busy processes."""
    fixed = len(os.sched_getaffinity(0))
    nice = load_settings().worker.cpu_priority
    variants = (
        (f"fitted to free cores, at worker.cpu_priority {nice} as a chat job", 0, nice),
        ("fitted to free cores, normal share", 0, 0),
        (f"fixed at {fixed} threads, normal share", fixed, 0),
    )
    for label, threads, priority in variants:
        settings = load_settings(models={"cache_dir": folder / "models"}, llm={"threads": threads})
        pool = EnginePool(settings=settings, device="cpu")
        try:
            engine = pool.get("llm.llama_cpp", LLMEngine)  # type: ignore[type-abstract]
            in_process(engine)
            with CpuPriority(priority, cores=free_cores()).held():
                alone = [in_process(engine) for _ in range(RUNS)]
                with Hogs(hogs):
                    beside = [in_process(engine) for _ in range(RUNS)]
                    load = load_average()
        finally:
            pool.close()
        report(f"{label}, as is", alone)
        report(f"{label}, beside {hogs}", beside)
        slowdown = statistics.median(run[2] / run[0] for run in beside) / statistics.median(
            run[2] / run[0] for run in alone
        )
        print(f"  seconds per token beside {hogs} / as is: {slowdown:.2f}x (load {load})")
    print(f"fair-share floor beside {hogs}: {fair_share_slowdown(hogs):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--load", type=int, default=0, help="also measure beside N busy processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pool = EnginePool(
            settings=load_settings(models={"cache_dir": folder / "models"}), device="cpu"
        )
        engine = pool.get("llm.llama_cpp", LLMEngine)  # type: ignore[type-abstract]
        in_process(engine)
        local = [in_process(engine) for _ in range(RUNS)]
        pool.close()
        stack = Stack(folder / "stack").start(workers=1)
        try:
            client = openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key="none")
            remote, relayed = direct_and_relayed(stack, client, folder / "relay")
            spoken_turn(stack)
        finally:
            stack.stop()
    print(f"prompt: {PROMPT!r}, greedy, at most {MAX_TOKENS} tokens; median of {RUNS} runs")
    report("in-process llama.cpp", local)
    report("/v1/chat/completions stream", remote)
    report("relayed by llm.openai_http", relayed)
    if args.load:
        with tempfile.TemporaryDirectory() as tmp:
            beside_hogs(Path(tmp), args.load)


def direct_and_relayed(
    upstream: Stack, client: openai.OpenAI, folder: Path
) -> tuple[list[tuple[int, float, float]], list[tuple[int, float, float]]]:
    """Streams from ``upstream``, interleaved with the same stream from a second stack
    whose LLM is ``upstream`` (``llm.openai_http``), so both see the same machine load."""
    relay = Stack(
        folder,
        settings={
            "VISIOVOX_LLM__ENGINE": "llm.openai_http",
            "VISIOVOX_LLM__BASE_URL": f"{upstream.base_url}/v1",
        },
    )
    folder.mkdir()
    try:
        relay.start(workers=1)
        relayed_client = openai.OpenAI(base_url=f"{relay.base_url}/v1", api_key="none")
        through_api(client)
        through_api(relayed_client)
        direct, relayed = [], []
        for _ in range(RUNS):
            direct.append(through_api(client))
            relayed.append(through_api(relayed_client))
        return direct, relayed
    finally:
        relay.stop()


if __name__ == "__main__":
    main()
