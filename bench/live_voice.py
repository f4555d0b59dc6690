"""Live voice conversion over ``WS /v1/live/voice``: chunk in → converted chunk out, gaps.

A one-worker stack (embedded Redis, gateway, worker). The speech is Piper
joe (the stack's ``tts`` job) saying a paragraph again and again to fill
``--seconds``; the reference is joe played a fifth up (``tests/voices.py``'s
``tape_speed``), so the offline converter (PSOLA, 60 ms look-ahead) has work
to do. A sender thread streams 20 ms PCM16 chunks at ``--rate`` **paced in
real time** as a microphone would, while the main thread reads the converted
PCM as it comes:

- latency: from a chunk sent to the converted audio covering its last sample
  received (client clocks), p50 / p95 / max, beside the worker's own figure
  (``stats``: chunk read from the stream → its converted samples sent);
- gaps: between two converted messages received (p50 / p99 / max), and a
  player's view: one that starts playing ``PLAYOUT_MS`` after the first
  converted audio arrives, counting the times (and the total time) it ran out
  of audio before the stream's end;
- length: converted samples received over samples sent (1.0: nothing lost).

Baseline, same run, on the same worker just before: the same speech through
the offline ``voice-convert`` job (whole file): its real-time factor on the
worker (``started_at`` to ``finished_at`` over the audio's duration), so the
live overhead is a ratio: the live session converts every second of speech
in real time (its CPU share is the worker's real-time factor for the session)
and its latency is the look-ahead, the block and the conversion's time.

    .venv/bin/python -m bench.live_voice [--seconds 60] [--rate 16000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from tests.integration.stack import Stack, wait_for_job
from tests.voices import tape_speed, write_wav
from websockets.sync.client import ClientConnection, connect

from bench.hogs import load_average
from visiovox.media.audio import decode_audio

CHUNK_S = 0.02
PLAYOUT_MS = 100.0
TAIL_S = 5.0  # how long the last chunk's answer is awaited
PIPER_RATE = 22_050
TEXT = (
    "A large crowd gathered in the square to hear the mayor speak about the bridge. "
    "Then everyone walked home along the river before the rain came. "
    "The quick brown fox jumps over the lazy dog near the old mill."
)


def spoken(client: httpx.Client, folder: Path) -> npt.NDArray[np.float32]:
    """``TEXT`` in Piper joe's voice, at 22.05 kHz."""
    response = client.post("/v1/jobs/tts", data={"text": TEXT, "format": "wav"})
    job = wait_for_job(client, response.json()["id"], timeout_s=300)
    path = folder / "speech.wav"
    path.write_bytes(client.get(job["outputs"][0]["url"]).content)
    return decode_audio(path, sample_rate=PIPER_RATE)


class Sender(threading.Thread):
    """Sends every chunk at its moment of a real-time clock, noting when each went."""

    def __init__(self, socket: ClientConnection, chunks: list[bytes]) -> None:
        super().__init__(daemon=True)
        self._socket = socket
        self._chunks = chunks
        self.sent_at: list[float] = []

    def run(self) -> None:
        started = time.monotonic()
        for index, data in enumerate(self._chunks):
            delay = started + index * CHUNK_S - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.sent_at.append(time.monotonic())
            self._socket.send(data)


@dataclass
class Stream:
    """What came back: (receive time, bytes so far) per converted message, and ``stats``."""

    sent_at: list[float]
    chunk_bytes: int
    received: list[tuple[float, int]] = field(default_factory=list)
    stats: list[dict[str, Any]] = field(default_factory=list)


def stream(url: str, *, rate: int, reference: bytes, pcm: bytes) -> Stream:
    step = 2 * int(rate * CHUNK_S)
    chunks = [pcm[i : i + step] for i in range(0, len(pcm), step)]
    with connect(url, max_size=None) as socket:
        socket.send(json.dumps({"type": "start_session", "sample_rate": rate}))
        socket.send(reference)
        while (event := json.loads(socket.recv(timeout=120)))["type"] != "ready":
            if event["type"] == "error":
                raise RuntimeError(event)
        sender = Sender(socket, chunks)
        sender.start()
        result = Stream(sender.sent_at, step)
        total, deadline = 0, float("inf")
        while total < len(pcm) - step and time.monotonic() < deadline:
            try:
                message = socket.recv(timeout=max(0.05, min(deadline - time.monotonic(), 30)))
            except TimeoutError:
                break
            now = time.monotonic()
            if isinstance(message, bytes):
                total += len(message)
                result.received.append((now, total))
            else:
                event = json.loads(message)
                if event["type"] == "stats":
                    result.stats.append(event)
                elif event["type"] == "error":
                    raise RuntimeError(event)
            if not sender.is_alive() and deadline == float("inf"):
                deadline = now + TAIL_S
        sender.join()
        socket.send(json.dumps({"type": "end_session"}))
    return result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figures(result: Stream, *, rate: int) -> dict[str, float]:
    times = [at for at, _ in result.received]
    totals = [size for _, size in result.received]
    latencies = []
    for index, sent in enumerate(result.sent_at):
        end = (index + 1) * result.chunk_bytes
        at = int(np.searchsorted(totals, end))  # the first message that covers it
        if at < len(times):
            latencies.append((times[at] - sent) * 1000.0)
    gaps = [(b - a) * 1000.0 for a, b in itertools.pairwise(times)]
    # A player: starts PLAYOUT_MS after the first audio, plays in real time; runs out when
    # the audio due next has not arrived yet.
    clock, stalls, stalled_s = times[0] + PLAYOUT_MS / 1000.0, 0, 0.0
    buffered_s = 0.0  # seconds of audio received before this message
    for at, size in result.received:
        if at > clock + buffered_s:  # all of it played before this message came
            stalls += 1
            stalled_s += at - (clock + buffered_s)
            clock = at - buffered_s
        buffered_s = size / 2 / rate
    sent_bytes = len(result.sent_at) * result.chunk_bytes
    last_stats = result.stats[-1] if result.stats else {}
    return {
        "chunks": len(result.sent_at),
        "answered": len(latencies),
        "p50": percentile(latencies, 0.5),
        "p95": percentile(latencies, 0.95),
        "max": max(latencies),
        "worker_p50": float(last_stats.get("latency_ms_p50", float("nan"))),
        "worker_p95": float(last_stats.get("latency_ms_p95", float("nan"))),
        "dropped": float(last_stats.get("dropped", 0)),
        "gap_p50": percentile(gaps, 0.5),
        "gap_p99": percentile(gaps, 0.99),
        "gap_max": max(gaps),
        "stalls": stalls,
        "stalled_ms": stalled_s * 1000.0,
        "length": totals[-1] / sent_bytes,
    }


def offline_job(client: httpx.Client, audio: Path, reference: Path) -> float:
    """The baseline: the same speech through the ``voice-convert`` job; its real-time factor."""
    files = {
        "audio": ("audio.wav", audio.read_bytes(), "audio/wav"),
        "reference": ("reference.wav", reference.read_bytes(), "audio/wav"),
    }
    response = client.post("/v1/jobs/voice-convert", files=files)
    job = wait_for_job(client, response.json()["id"], timeout_s=600)
    assert job["status"] == "succeeded", job
    ran_s = (
        datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"])
    ).total_seconds()
    return ran_s / job["result"]["duration_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60, help="speech streamed")
    parser.add_argument("--rate", type=int, default=16_000, choices=(16_000, 48_000))
    args = parser.parse_args()
    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        stack = Stack(folder / "stack").start(workers=1)
        try:
            with httpx.Client(base_url=stack.base_url, timeout=120) as client:
                speech = spoken(client, folder)
                reference = write_wav(tape_speed(speech, 1.5), folder / "reference.wav")
                repeats = int(np.ceil(args.seconds * PIPER_RATE / len(speech)))
                source = np.tile(speech, repeats)[: args.seconds * PIPER_RATE]
                audio = write_wav(source, folder / "audio.wav")
                pcm = decode_audio(audio, sample_rate=args.rate)
                pcm16 = (np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes()
                rtf = offline_job(client, audio, reference)
                url = stack.base_url.replace("http", "ws", 1) + "/v1/live/voice"
                result = stream(url, rate=args.rate, reference=reference.read_bytes(), pcm=pcm16)
                load_after = load_average()
        finally:
            stack.stop()
    f = figures(result, rate=args.rate)
    print(
        f"{args.seconds} s of speech, PCM16 {args.rate} Hz in 20 ms chunks paced in real time; "
        f"load average (1/5/15 min) before {load_before}, after {load_after}"
    )
    print("| measure | value |\n| --- | ---: |")
    print(f"| chunks sent / answered | {f['chunks']:.0f} / {f['answered']:.0f} |")
    print(
        f"| latency chunk sent → converted audio received p50 / p95 / max ms | "
        f"{f['p50']:.1f} / {f['p95']:.1f} / {f['max']:.1f} |"
    )
    print(
        f"| worker's latency (chunk read → converted sent), last stats p50 / p95 ms | "
        f"{f['worker_p50']:.1f} / {f['worker_p95']:.1f} |"
    )
    print(
        f"| gap between converted messages p50 / p99 / max ms | "
        f"{f['gap_p50']:.1f} / {f['gap_p99']:.1f} / {f['gap_max']:.1f} |"
    )
    print(
        f"| player with a {PLAYOUT_MS:.0f} ms buffer: times it ran out / time without audio ms | "
        f"{f['stalls']:.0f} / {f['stalled_ms']:.1f} |"
    )
    print(f"| converted length / sent length | {f['length']:.4f} |")
    print(f"| input chunks dropped (stats) | {f['dropped']:.0f} |")
    print(f"| `voice-convert` job, same speech: real-time factor on the worker | {rtf:.3f} |")
    print(f"| live p50 latency / 250 ms target | {f['p50'] / 250.0:.2f} |")


if __name__ == "__main__":
    main()
