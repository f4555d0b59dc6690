"""Live assistant turn latency: end of the user's speech to the first audio byte and ``complete``.

A one-worker stack (embedded Redis, gateway, worker; engines loaded by a
warm-up turn). The question, SPOKEN_QUESTION synthesised by Piper (~3 s, without its prosody
noise: the same audio every run),
is streamed over ``WS /v1/live/assistant`` in 20 ms PCM16 chunks **paced in
real time** as a microphone would, followed by real-time silence until the
turn completes. The end of speech is when the chunk holding the last voiced
sample (|x| > 0.02) was sent; the first audio byte and ``complete`` are
client receive times. Every turn is one more question in the same session (the
history grows to its cap). The server's own stage times come from
``complete.timings``. Baseline, same run, just before on the same worker: the
REST turn (``POST /v1/assistant/sessions/{id}/turns?wait=true``) with the same
WAV, timed from the start of the upload to the whole reply. (Interleaving the
two on a second worker was tried: two workers' spinning thread pools on two
cores slowed both by seconds.)

``--load N`` measures twice on the same stack and session: first as the
machine is, then with N CPU-bound processes beside it (``bench/hogs.py``),
and prints the ratios next to the slowdown the kernel's fair share imposes on
any one-thread work beside the same processes.

    .venv/bin/python -m bench.live [--turns 20] [--rest-turns 10] [--pause-ms 200] [--load 2]
        [--env VISIOVOX_LLM__THREADS=2 ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from tests.integration.stack import Stack
from tests.voices import fixed_speech, write_wav
from tests.wer import SPOKEN_QUESTION
from websockets.sync.client import ClientConnection, connect

from bench.hogs import Hogs, fair_share_slowdown, load_average
from visiovox.config import load_settings
from visiovox.media.audio import decode_audio

CHUNK_SAMPLES = 320  # 20 ms at 16 kHz
CHUNK_S = CHUNK_SAMPLES / 16_000
SYSTEM = "You are a helpful voice assistant. Answer in one short sentence."


def question(folder: Path) -> tuple[bytes, bytes, int]:
    """The question as WAV, as PCM16 16 kHz, and the index of its last voiced chunk.

    Piper joe without its prosody noise (``tests/voices.py``): the same samples in
    every run, so the transcription, and with it the reply, do not vary between runs.
    """
    settings = load_settings(models={"cache_dir": folder / "models"})
    path = write_wav(fixed_speech(settings, SPOKEN_QUESTION), folder / "question.wav")
    samples = decode_audio(path, sample_rate=16_000)
    last_voiced = int(np.flatnonzero(np.abs(samples) > 0.02)[-1])
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    return path.read_bytes(), pcm, last_voiced // CHUNK_SAMPLES


class Speaker(threading.Thread):
    """Streams the question then silence in real time until told to stop."""

    def __init__(self, socket: ClientConnection, pcm: bytes, last_voiced_chunk: int) -> None:
        super().__init__(daemon=True)
        self._socket = socket
        self._chunks = [
            pcm[i : i + 2 * CHUNK_SAMPLES] for i in range(0, len(pcm), 2 * CHUNK_SAMPLES)
        ]
        self._last_voiced = last_voiced_chunk
        self.stop = threading.Event()
        self.speech_ended_at = 0.0

    def run(self) -> None:
        silence = bytes(2 * CHUNK_SAMPLES)
        started = time.monotonic()
        index = 0
        while not self.stop.is_set():
            self._socket.send(self._chunks[index] if index < len(self._chunks) else silence)
            if index == self._last_voiced:
                self.speech_ended_at = time.monotonic() + CHUNK_S  # the chunk's end
            index += 1
            delay = started + index * CHUNK_S - time.monotonic()
            if delay > 0:
                time.sleep(delay)


def live_turn(socket: ClientConnection, pcm: bytes, last_voiced: int) -> dict[str, Any]:
    speaker = Speaker(socket, pcm, last_voiced)
    speaker.start()
    first_audio = 0.0
    try:
        while True:
            message = socket.recv(timeout=120)
            now = time.monotonic()
            if isinstance(message, bytes):
                first_audio = first_audio or now
                continue
            event = json.loads(message)
            if event["type"] == "error":
                raise RuntimeError(event)
            if event["type"] == "complete":
                break
    finally:
        speaker.stop.set()
        speaker.join()
    return {
        "first_audio": first_audio - speaker.speech_ended_at,
        "complete": now - speaker.speech_ended_at,
        "server": event["timings"],
        "speculative": event["speculative"],
        "dropped": event["dropped"],
    }


def rest_turn(client: httpx.Client, session: str, wav: bytes) -> float:
    started = time.perf_counter()
    answer = client.post(
        f"/v1/assistant/sessions/{session}/turns",
        params={"wait": "true"},
        files={"audio": ("q.wav", wav, "audio/wav")},
    )
    answer.raise_for_status()
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarise(turns: list[dict[str, Any]], rest: list[float], load: str) -> None:
    def row(label: str, values: list[float]) -> None:
        print(
            f"| {label} | {statistics.median(values) * 1000:,.0f} | "
            f"{percentile(values, 0.9) * 1000:,.0f} |"
        )

    print(f"{len(turns)} live turns; load average {load} (1/5/15 min, at the end)")
    print("| measure | p50 ms | p90 ms |\n| --- | ---: | ---: |")
    row("end of speech → first audio byte (client)", [t["first_audio"] for t in turns])
    row("end of speech → `complete` (client)", [t["complete"] for t in turns])
    detect = [t["first_audio"] - t["server"]["first_audio"] for t in turns]
    row("end of speech → end detected on the worker, + relay", detect)
    for name in (
        "end_detected",
        "transcribe",
        "speculative",
        "first_token",
        "first_audio",
        "generate",
        "synthesize",
        "complete",
    ):
        values = [t["server"][name] for t in turns if name in t["server"]]
        if values:
            row(f"worker: {name}", values)
    row("REST turn `?wait=true` round trip (baseline)", rest)
    speculative = sum(t["speculative"] for t in turns)
    ratio = statistics.median(t["first_audio"] for t in turns) / statistics.median(rest)
    print(
        f"speculative transcription reused in {speculative}/{len(turns)} turns; "
        f"client chunks dropped by the input stream's cap: {max(t['dropped'] for t in turns)}; "
        f"ratio live first audio / REST round trip (p50): {ratio:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--rest-turns", type=int, default=10)
    parser.add_argument(
        "--pause-ms", type=int, default=None, help="live.speculative_pause_ms (default: config)"
    )
    parser.add_argument(
        "--load", type=int, default=0, help="then measure again beside N CPU-bound processes"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the stack, e.g. VISIOVOX_LLM__THREADS=2 (repeatable)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = dict(pair.split("=", 1) for pair in args.env)
        if args.pause_ms is not None:
            settings["VISIOVOX_LIVE__SPECULATIVE_PAUSE_MS"] = str(args.pause_ms)
        stack = Stack(folder / "stack", settings=settings).start(workers=1)
        try:
            with httpx.Client(base_url=stack.base_url, timeout=120) as client:
                wav, pcm, last_voiced = question(folder)
                session = client.post(
                    "/v1/assistant/sessions", json={"system_prompt": SYSTEM, "language": "en"}
                ).json()["id"]
                rest_turn(client, session, wav)  # loads Whisper, the LLM and Piper
                url = stack.base_url.replace("http", "ws", 1) + "/v1/live/assistant"
                phases = [
                    measure(client, url, session, (wav, pcm, last_voiced), args, hogs)
                    for hogs in sorted({0, args.load})
                ]
        finally:
            stack.stop()
    print(f"live.speculative_pause_ms: {args.pause_ms or 'default'}; settings {args.env}")
    for phase in phases:
        print(f"\n### beside {phase.hogs} CPU-bound processes")
        summarise(phase.turns, phase.rest, phase.load)
    if len(phases) == 2:
        compare(*phases)


@dataclass
class Phase:
    """One measurement: live turns and REST turns beside ``hogs`` busy processes."""

    hogs: int
    turns: list[dict[str, Any]]
    rest: list[float]
    load: str


def measure(
    client: httpx.Client,
    url: str,
    session: str,
    audio: tuple[bytes, bytes, int],
    args: argparse.Namespace,
    hogs: int,
) -> Phase:
    """REST turns, then a live session (it holds the one worker while it lasts)."""
    wav, pcm, last_voiced = audio
    with Hogs(hogs):
        rest = [rest_turn(client, session, wav) for _ in range(args.rest_turns)]
        with connect(url, max_size=None) as socket:
            start = {"type": "start_session", "system_prompt": SYSTEM, "language": "en"}
            socket.send(json.dumps(start))
            while json.loads(socket.recv(timeout=120))["type"] != "ready":
                pass
            live_turn(socket, pcm, last_voiced)  # warm-up: the VAD loads
            turns = [live_turn(socket, pcm, last_voiced) for _ in range(args.turns)]
            socket.send(json.dumps({"type": "end_session"}))
        load = load_average()
    return Phase(hogs, turns, rest, load)


def compare(idle: Phase, loaded: Phase) -> None:
    def ratio(values: list[float], baseline: list[float]) -> float:
        return statistics.median(values) / statistics.median(baseline)

    live = ratio([t["first_audio"] for t in loaded.turns], [t["first_audio"] for t in idle.turns])
    rest = ratio(loaded.rest, idle.rest)
    floor = fair_share_slowdown(loaded.hogs)
    print(
        f"\nbeside {loaded.hogs} CPU-bound processes / as the machine was (p50): "
        f"live first audio {live:.2f}x, REST turn {rest:.2f}x; "
        f"a one-thread loop beside the same processes (the fair-share floor): {floor:.2f}x"
    )


if __name__ == "__main__":
    main()
