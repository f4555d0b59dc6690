"""Live avatar: end of speech → first avatar frame, frames delivered per second of reply audio
while the model writes the next sentence, and the share of frames in hand before their time.

A one-worker stack (embedded Redis, gateway, worker; engines loaded by a
warm-up turn). The spoken question of ``bench/live.py`` (SPOKEN_QUESTION by
Piper, ~3 s) is streamed over ``WS /v1/live/assistant`` in 20 ms PCM16
chunks paced in real time, then real-time silence until ``complete``; the
system prompt asks for three sentences (the bundled SmolLM2 writes four or
five), so the model is still writing while the first sentences play. Each
question opens a session of its own (the first question of a conversation: a
history of long replies would lengthen the prompt turn by turn), and a turn
with the avatar is read until the avatar idles again after the reply. Turns
with and without the avatar alternate, so both meet the same machine.

Measured on the client, by arrival times:

- end of speech (the chunk holding the last voiced sample was sent) → the
  first frame of the reply (and, as in ``bench/live.py``, → its first audio);
- for each sentence but the last of its reply (the model writes the next one
  while it plays): its frames in hand by their play time (the WAV's arrival
  + ``pts_ms``) per second of its audio: the frame rate a client playing the
  audio on arrival could show;
- of every frame of every reply, the share that arrived before its play time.

Baseline in the same run, on the same worker: the same turns with the avatar
off (first audio, and the worker's ``end_detected``: the listener's VAD must
not wait on the painting). ``--load N`` measures again beside N CPU-bound
processes (``bench/hogs.py``).

    .venv/bin/python -m bench.live_avatar [--turns 8] [--size 512] [--fps 25] [--load 2]

``--turns``: questions with the avatar and as many without, per phase.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.integration.stack import Stack
from websockets.sync.client import ClientConnection, connect

from bench.hogs import Hogs, load_average
from bench.live import Speaker, percentile, question

SYSTEM = "You are a friendly tour guide. Answer in three sentences: the answer, then two facts."


@dataclass
class Turn:
    """One turn as the client saw it (times: ``time.monotonic`` at arrival)."""

    speech_ended_at: float
    first_audio: float = 0.0
    first_frame: float = 0.0
    wavs: list[tuple[float, float]] = field(default_factory=list)  # (arrival, duration s)
    frames: dict[int, list[tuple[int, float]]] = field(default_factory=dict)  # S: (pts, at)
    timings: dict[str, float] = field(default_factory=dict)


def _duration_s(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as reader:
        return reader.getnframes() / reader.getframerate()


def live_turn(socket: ClientConnection, pcm: bytes, last_voiced: int, *, avatar: bool) -> Turn:
    """Ask once; with the avatar, read on until it idles again after the reply."""
    speaker = Speaker(socket, pcm, last_voiced)
    speaker.start()
    turn: Turn | None = None
    first_sentence: int | None = None
    completed = False
    try:
        while True:
            message = socket.recv(timeout=120)
            now = time.monotonic()
            if turn is None and speaker.speech_ended_at:
                turn = Turn(speaker.speech_ended_at)
            if isinstance(message, bytes):
                if turn is not None:
                    turn.first_audio = turn.first_audio or now
                    turn.wavs.append((now, _duration_s(message)))
                continue
            event = json.loads(message)
            if event["type"] == "error":
                raise RuntimeError(event)
            if event["type"] == "video_frame":
                socket.recv(timeout=120)  # its JPEG
                now = time.monotonic()
                sentence = event["sentence"]
                if sentence is None:
                    if completed:
                        break  # idle again: the reply has played
                    continue
                if turn is None:
                    continue
                first_sentence = sentence if first_sentence is None else first_sentence
                turn.first_frame = turn.first_frame or now
                turn.frames.setdefault(sentence - first_sentence, []).append((event["pts_ms"], now))
            elif event["type"] == "complete":
                completed = True
                assert turn is not None
                turn.timings = event["timings"]
                speaker.stop.set()
                if not avatar:
                    break
    finally:
        speaker.stop.set()
        speaker.join()
    assert turn is not None
    return turn


@dataclass
class Phase:
    hogs: int
    plain: list[Turn]
    avatar: list[Turn]
    load: str


def session(url: str, audio: tuple[bytes, bytes, int], **start: Any) -> Turn:
    """One conversation's first question (a history of replies would lengthen the prompt)."""
    _wav, pcm, last_voiced = audio
    with connect(url, max_size=None) as socket:
        message = {"type": "start_session", "system_prompt": SYSTEM, "language": "en", **start}
        socket.send(json.dumps(message))
        while True:
            reply = socket.recv(timeout=120)
            if isinstance(reply, str) and json.loads(reply)["type"] == "ready":
                break
        turn = live_turn(socket, pcm, last_voiced, avatar=bool(start.get("avatar")))
        socket.send(json.dumps({"type": "end_session"}))
    return turn


def measure(
    url: str, audio: tuple[bytes, bytes, int], args: argparse.Namespace, hogs: int
) -> Phase:
    with Hogs(hogs):
        session(url, audio)  # warm-up: the VAD loads
        plain, avatar = [], []
        for _ in range(args.turns):  # alternately, so both meet the same machine
            plain.append(session(url, audio))
            avatar.append(session(url, audio, avatar=True, fps=args.fps, size=args.size))
        load = load_average()
    return Phase(hogs, plain, avatar, load)


def delivered_fps(turn: Turn, fps: int) -> list[float]:
    """Per sentence but the reply's last: frames in hand by their play time per audio second."""
    rates = []
    for number, (wav_at, duration_s) in enumerate(turn.wavs[:-1]):
        frames = turn.frames.get(number, [])
        in_time = sum(at <= wav_at + pts / 1000 for pts, at in frames)
        rates.append(min(in_time, round(duration_s * fps + 0.5)) / duration_s)
    return rates


def late_frames(turns: list[Turn]) -> list[tuple[int, int, int]]:
    """(ms after its play time, sentence, index) of every frame that came late."""
    late = []
    for turn in turns:
        for number, (wav_at, _duration) in enumerate(turn.wavs):
            for index, (pts, at) in enumerate(turn.frames.get(number, [])):
                if at > wav_at + pts / 1000:
                    late.append((round((at - wav_at) * 1000 - pts), number, index))
    return late


def on_time(turns: list[Turn]) -> tuple[int, int]:
    good = total = 0
    for turn in turns:
        for number, (wav_at, _duration) in enumerate(turn.wavs):
            for pts, at in turn.frames.get(number, []):
                good += at <= wav_at + pts / 1000
                total += 1
    return good, total


def summarise(phase: Phase, fps: int, size: int) -> None:
    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:,.0f} | {percentile(values, 0.9) * 1000:,.0f}"

    avatar, plain = phase.avatar, phase.plain
    print(f"\n### beside {phase.hogs} CPU-bound processes; load average {phase.load}")
    print(f"{len(avatar)} turns with the avatar ({size} px, {fps} fps), {len(plain)} without")
    print("| measure | p50 | p90 |\n| --- | ---: | ---: |")

    def row(label: str, values: list[float]) -> None:
        print(f"| {label} | {ms(values)} |")

    row(
        "end of speech → first avatar frame (ms)",
        [t.first_frame - t.speech_ended_at for t in avatar],
    )
    row(
        "end of speech → first audio, avatar (ms)",
        [t.first_audio - t.speech_ended_at for t in avatar],
    )
    row(
        "end of speech → first audio, no avatar (ms)",
        [t.first_audio - t.speech_ended_at for t in plain],
    )
    for name in ("end_detected", "generate", "synthesize"):
        with_avatar = [t.timings[name] for t in avatar if name in t.timings]
        without = [t.timings[name] for t in plain if name in t.timings]
        if with_avatar and without:
            row(f"worker {name}, avatar (ms)", with_avatar)
            row(f"worker {name}, no avatar (ms)", without)
    rates = [rate for turn in avatar for rate in delivered_fps(turn, fps)]
    sentences = [len(t.wavs) for t in avatar]
    if rates:
        print(
            f"frames in hand by their play time per second of audio, sentences played while "
            f"the model wrote the next ({len(rates)}): p50 {statistics.median(rates):.1f}, "
            f"min {min(rates):.1f} fps"
        )
    else:
        print("no reply had more than one sentence: no frame rate while generating")
    late = sorted(late_frames(avatar), reverse=True)[:8]
    print("latest frames (ms late, sentence of its reply, index):", late)
    good, total = on_time(avatar)
    print(
        f"frames before their play time: {good}/{total} = {100 * good / max(1, total):.2f} %; "
        f"sentences a reply: {statistics.median(sentences)}"
    )
    first = statistics.median(t.first_audio - t.speech_ended_at for t in avatar)
    base = statistics.median(t.first_audio - t.speech_ended_at for t in plain)
    print(f"first audio with / without the avatar (p50): {first / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--load", type=int, default=0, help="then again beside N busy processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        stack = Stack(folder / "stack").start(workers=1)
        try:
            audio = question(folder)
            url = stack.base_url.replace("http", "ws", 1) + "/v1/live/assistant"
            phases = [measure(url, audio, args, hogs) for hogs in sorted({0, args.load})]
        finally:
            stack.stop()
    for phase in phases:
        summarise(phase, args.fps, args.size)


if __name__ == "__main__":
    main()
