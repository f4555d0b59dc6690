"""WS /v1/live/voice against a real stack: a worker converts, the gateway relays.

Piper joe (the stack's tts job) is the speaker; joe played a fifth up is the
reference. A private stack with a short idle timeout, so the idle test ends in
seconds; every other test keeps its session busy. The worker-kill test is
``test_live_voice_worker_lost.py``.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.integration.stack import Stack, wait_for_job
from tests.unit.engines.voice.rvc_graphs import synthesizer_graph
from tests.voices import semitones, tape_speed, write_wav, yin_median_f0
from visiovox.media.audio import decode_audio

IDLE_TIMEOUT_S = 4
PIPER_RATE = 22_050
RATE = 16_000
CHUNK = 320  # 20 ms at 16 kHz
TIMEOUT_S = 30
SOURCE_TEXT = "The quick brown fox jumps over the lazy dog near the old mill."
REFERENCE_TEXT = (
    "A large crowd gathered in the square to hear the mayor speak about the bridge. "
    "Then everyone walked home along the river before the rain came."
)


@pytest.fixture(scope="module")
def voice_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    deployment = Stack(
        tmp_path_factory.mktemp("voice-live"),
        settings={
            "VISIOVOX_AUTH__ENABLED": "on",
            "VISIOVOX_LIVE__IDLE_TIMEOUT_S": str(IDLE_TIMEOUT_S),
        },
    )
    try:
        deployment.start(owners=("alice", "bob"))
        yield deployment
    finally:
        deployment.stop()


def _spoken(stack: Stack, text: str, folder: Path) -> npt.NDArray[np.float32]:
    with stack.client("alice") as client:
        response = client.post("/v1/jobs/tts", data={"text": text, "format": "wav"})
        assert response.status_code == 202, response.text
        job = wait_for_job(client, response.json()["id"], timeout_s=120)
        assert job["status"] == "succeeded", job
        path = folder / f"{job['id']}.wav"
        path.write_bytes(client.get(job["outputs"][0]["url"]).content)
    return decode_audio(path, sample_rate=PIPER_RATE)


@pytest.fixture(scope="module")
def voices(voice_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Joe as PCM16 at 16 kHz; WAVs of joe a fifth up, 2.5 s of it, and a hum."""
    folder = tmp_path_factory.mktemp("live-voices")
    source = _spoken(voice_stack, SOURCE_TEXT, folder)
    other = tape_speed(_spoken(voice_stack, REFERENCE_TEXT, folder), 1.5)
    t = np.arange(PIPER_RATE * 5) / PIPER_RATE
    hum = (0.2 * sum(np.sin(2 * np.pi * 220.0 * k * t) / k for k in range(1, 11))).astype(
        np.float32
    )
    wavs = {"reference": other, "short": other[: int(PIPER_RATE * 2.5)], "hum": hum}
    made = {name: write_wav(s, folder / f"{name}.wav").read_bytes() for name, s in wavs.items()}
    pcm = decode_audio(write_wav(source, folder / "source.wav"), sample_rate=RATE)
    return {**made, "source": (np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes()}


def _url(stack: Stack, key: str | None = None) -> str:
    return stack.ws_url("/v1/live/voice", key=key or stack.api_keys["alice"])


@contextlib.contextmanager
def _session(stack: Stack, reference: bytes | None, **fields: Any) -> Iterator[ClientConnection]:
    """A started session; with ``reference``, sent and ``ready`` awaited."""
    with connect(_url(stack), max_size=None) as socket:
        socket.send(json.dumps({"type": "start_session", **fields}))
        started = json.loads(socket.recv(timeout=10))
        assert started["type"] == "session_started" and started["session_id"], started
        socket.job_id = started["job_id"]  # type: ignore[attr-defined]
        if reference is not None:
            socket.send(reference)
            assert _next(socket)["type"] == "ready"
        yield socket


def _next(socket: ClientConnection) -> Any:
    """The next message but ``stats`` (JSON as a dict, binary as bytes)."""
    while True:
        message = socket.recv(timeout=TIMEOUT_S)
        if isinstance(message, bytes):
            return message
        payload = json.loads(message)
        if payload["type"] != "stats":
            return payload


def _closed_with(stack: Stack, first: str | bytes, *, key: str | None = None) -> int | None:
    with connect(_url(stack, key)) as socket:
        with contextlib.suppress(ConnectionClosed):  # a bad key may close before it is sent
            socket.send(first)
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)
        return socket.close_code


def _pcm(samples: bytes) -> npt.NDArray[np.float32]:
    return np.frombuffer(samples, "<i2").astype(np.float32) / 32768.0


def decode_audio_bytes(data: bytes) -> npt.NDArray[np.float32]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audio.wav"
        path.write_bytes(data)
        return decode_audio(path, sample_rate=RATE)


@pytest.fixture(scope="module")
def voice_graph(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A stand-in RVC synthesizer (the real graph's inputs and outputs), 40 kHz."""
    path = tmp_path_factory.mktemp("voice-graph") / "voice.onnx"
    return synthesizer_graph(path, sample_rate=40_000).read_bytes()


def _registered(stack: Stack, owner: str, model: bytes) -> str:
    """A voice of ``owner``'s, validated."""
    with stack.client(owner) as client:
        answer = client.post(
            "/v1/voices",
            data={"name": "alto", "sample_rate": "40000"},
            files={"model": ("voice.onnx", model, "application/octet-stream")},
        )
        assert answer.status_code == 202, answer.text
        assert wait_for_job(client, answer.json()["job"]["id"])["status"] == "succeeded"
    return str(answer.json()["voice"]["id"])


def test_a_session_converts_chunks_in_order_toward_the_reference(
    voice_stack: Stack, voices: dict[str, bytes]
) -> None:
    source = voices["source"]
    chunks = [source[i : i + 2 * CHUNK] for i in range(0, len(source), 2 * CHUNK)]
    with _session(voice_stack, voices["reference"]) as socket:
        socket.send(json.dumps({"type": "ping"}))
        assert _next(socket) == {"type": "pong"}

        def paced() -> None:  # real time: one 20 ms chunk every 20 ms
            start = time.perf_counter()
            for index, chunk in enumerate(chunks):
                time.sleep(max(0.0, start + index * 0.02 - time.perf_counter()))
                socket.send(chunk)
            socket.send(json.dumps({"type": "end_session"}))

        sender = threading.Thread(target=paced)
        sender.start()
        audio, replies = b"", []
        with pytest.raises(ConnectionClosed):
            while True:
                message = socket.recv(timeout=TIMEOUT_S)
                if isinstance(message, bytes):
                    audio += message
                else:
                    replies.append(json.loads(message))
        sender.join()
    assert socket.close_code == 1000
    assert replies[-1] == {"type": "session_ended", "reason": "end_session"}, replies
    stats = [r for r in replies if r["type"] == "stats"]
    assert stats and stats[-1]["chunks_in"] > len(chunks) // 2, replies
    assert {"chunks_out", "latency_ms_p50", "latency_ms_p95", "dropped"} <= set(stats[-1])
    assert stats[-1]["dropped_out"] == 0  # nothing lost on the way back
    assert stats[-1]["latency_ms_p50"] > 0
    assert [r for r in replies if r["type"] not in ("stats", "session_ended")] == []
    assert abs(len(audio) - len(source)) <= 2 * CHUNK
    before, after = yin_median_f0(_pcm(source), rate=RATE), yin_median_f0(_pcm(audio), rate=RATE)
    wanted = yin_median_f0(decode_audio_bytes(voices["reference"]), rate=RATE)
    assert semitones(before, wanted) >= 5.0
    assert abs(semitones(wanted, after)) < abs(semitones(wanted, before)) / 2, (before, after)


@pytest.mark.parametrize(("bad", "code"), [("hum", "no_speech"), ("short", "reference_too_short")])
def test_a_bad_reference_is_an_error_and_another_may_follow(
    voice_stack: Stack, voices: dict[str, bytes], bad: str, code: str
) -> None:
    with _session(voice_stack, None) as socket:
        socket.send(voices[bad])
        error = _next(socket)
        assert (error["type"], error["code"]) == ("error", code), error
        socket.send(voices["reference"])
        assert _next(socket)["type"] == "ready"
        socket.send(voices["source"][: 2 * RATE])  # one second
        socket.send(json.dumps({"type": "end_session"}))
        audio = b""
        while isinstance(message := _next(socket), bytes):
            audio += message
        assert message == {"type": "session_ended", "reason": "end_session"}
        assert len(audio) == 2 * RATE


def test_a_first_message_that_is_not_start_session_closes_4400(voice_stack: Stack) -> None:
    assert _closed_with(voice_stack, b"\x00\x01") == 4400
    assert _closed_with(voice_stack, json.dumps({"type": "ping"})) == 4400


def test_a_bad_key_closes_4401(voice_stack: Stack) -> None:
    start = json.dumps({"type": "start_session"})
    assert _closed_with(voice_stack, start, key="vv_wrong") == 4401


@pytest.mark.parametrize(
    "fields",
    [{"sample_rate": 44100}, {"pitch_shift": 30}, {"pitch_shift": "up"}, {"tempo": 2}],
)
def test_bad_params_close_4422(voice_stack: Stack, fields: dict[str, Any]) -> None:
    with connect(_url(voice_stack)) as socket:
        socket.send(json.dumps({"type": "start_session", **fields}))
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)
    assert (socket.close_code, socket.close_reason) == (4422, "invalid_params")


def test_another_owners_or_an_unknown_voice_closes_4404(
    voice_stack: Stack, voice_graph: bytes
) -> None:
    for voice in (_registered(voice_stack, "bob", voice_graph), "vo_unknown"):
        with connect(_url(voice_stack)) as socket:
            socket.send(json.dumps({"type": "start_session", "voice": voice}))
            with pytest.raises(ConnectionClosed):
                socket.recv(timeout=10)
        assert (socket.close_code, socket.close_reason) == (4404, "voice_not_found")


def test_a_voice_without_rvc_models_in_the_cache_closes_4422(
    voice_stack: Stack, voice_graph: bytes
) -> None:
    voice = _registered(voice_stack, "alice", voice_graph)
    with _session(voice_stack, None, voice=voice) as socket:
        error = _next(socket)
        assert (error["type"], error["code"]) == ("error", "model_unavailable"), error
        assert "contentvec" in error["message"]  # the missing model is named
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)
    assert (socket.close_code, socket.close_reason) == (4422, "model_unavailable")


def test_an_idle_session_ends(voice_stack: Stack, voices: dict[str, bytes]) -> None:
    with _session(voice_stack, voices["reference"]) as socket:
        started = time.monotonic()
        assert _next(socket) == {"type": "session_ended", "reason": "idle"}
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)
    assert socket.close_code == 1000
    assert IDLE_TIMEOUT_S - 1 <= time.monotonic() - started <= IDLE_TIMEOUT_S + 5
