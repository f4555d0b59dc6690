"""WS /v1/live/assistant against a real stack: a worker hosts the session, the gateway relays."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import numpy as np
import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.integration.stack import Stack, live_assistant_url
from tests.wer import SPOKEN_QUESTION
from visiovox.media.audio import decode_audio

SYSTEM = "You are a helpful assistant. Answer in one short sentence."
STORY = "You tell long stories. Answer with a story of ten sentences."
CHUNK = 640  # 20 ms of PCM16 at 16 kHz
SILENCE = bytes(32_000)  # 1 s
TIMEOUT_S = 60


@pytest.fixture(scope="module")
def question_wav(stack: Stack) -> bytes:
    with stack.client("alice") as client:
        client.timeout = 60
        return client.post(
            "/v1/audio/speech",
            json={
                "model": "tts-1",
                "voice": "joe",
                "input": SPOKEN_QUESTION,
                "response_format": "wav",
            },
        ).content


@pytest.fixture(scope="module")
def question_pcm(question_wav: bytes, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("live") / "question.wav"
    path.write_bytes(question_wav)
    samples = decode_audio(path, sample_rate=16_000)
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def _start(socket: ClientConnection, **fields: Any) -> str:
    socket.send(json.dumps({"type": "start_session", **fields}))
    started = json.loads(socket.recv(timeout=10))
    assert started["type"] == "session_started", started
    assert json.loads(socket.recv(timeout=TIMEOUT_S)) == {"type": "ready"}
    return str(started["session_id"])


def _speak(socket: ClientConnection, pcm: bytes) -> None:
    audio = pcm + SILENCE
    for start in range(0, len(audio), CHUNK):
        socket.send(audio[start : start + CHUNK])


def _until(socket: ClientConnection, last: str) -> list[dict[str, Any] | bytes]:
    """Messages (JSON as dicts, audio as bytes) up to and including one of type ``last``."""
    received: list[dict[str, Any] | bytes] = []
    while True:
        message = socket.recv(timeout=TIMEOUT_S)
        item = message if isinstance(message, bytes) else json.loads(message)
        received.append(item)
        if isinstance(item, dict) and item["type"] in (last, "error"):
            return received


def _kinds(items: list[dict[str, Any] | bytes]) -> list[str]:
    return ["audio" if isinstance(item, bytes) else item["type"] for item in items]


def test_streamed_questions_get_spoken_answers_and_share_history(
    stack: Stack, live: ClientConnection, question_pcm: bytes
) -> None:
    session_id = _start(live, system_prompt=SYSTEM, language="en")
    _speak(live, question_pcm)
    first = _until(live, "complete")

    kinds = _kinds(first)
    assert kinds[-1] == "complete", first
    # In order: heard, (transcribed,) answered in text and audio, completed.
    order = ["speech_started", "transcription", "response", "audio", "complete"]
    assert [kinds.index(kind) for kind in order] == sorted(kinds.index(kind) for kind in order)
    assert kinds.index("processing") < kinds.index("response")
    complete = first[-1]
    assert isinstance(complete, dict)
    assert "capital city of france" in complete["transcription"].lower()
    assert "Paris" in complete["text"], complete["text"]
    deltas = [m["delta"] for m in first if isinstance(m, dict) and "delta" in m]
    assert "".join(deltas).strip() == complete["text"]
    audio = [item for item in first if isinstance(item, bytes)]
    assert audio and all(chunk.startswith(b"RIFF") for chunk in audio)
    assert {"first_audio", "complete"} <= set(complete["timings"])
    assert complete["dropped"] == 0 and complete["dropped_out"] == 0

    live.send(json.dumps({"type": "ping"}))
    assert json.loads(live.recv(timeout=10)) == {"type": "pong"}
    live.send(json.dumps({"type": "text", "text": "Thank you."}))
    second = _until(live, "complete")[-1]
    assert isinstance(second, dict) and second["type"] == "complete", second
    # The second turn's prompt carried the first exchange.
    grown = second["usage"]["prompt_tokens"] - complete["usage"]["prompt_tokens"]
    assert grown > complete["usage"]["completion_tokens"]
    with stack.client("alice") as client:
        messages = client.get(f"/v1/assistant/sessions/{session_id}").json()["messages"]
        assert [m["content"] for m in messages] == [
            complete["transcription"],
            complete["text"],
            "Thank you.",
            second["text"],
        ]
        live.send(json.dumps({"type": "end_session"}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                live.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
        assert client.get(f"/v1/assistant/sessions/{session_id}").status_code == 404


def test_speaking_over_a_reply_interrupts_it(live: ClientConnection, question_pcm: bytes) -> None:
    _start(live, system_prompt=STORY, language="en")
    live.send(json.dumps({"type": "text", "text": "Tell me a long story about a knight."}))
    before: list[dict[str, Any] | bytes] = []
    while not before or not isinstance(before[-1], bytes):
        message = live.recv(timeout=TIMEOUT_S)
        before.append(message if isinstance(message, bytes) else json.loads(message))
    _speak(live, question_pcm)  # the first sentence is arriving: talk over the rest

    after = _until(live, "interrupted")
    kinds = _kinds(before + after)
    assert "complete" not in kinds  # the story was cut short
    rest = _until(live, "transcription")
    assert "audio" not in _kinds(rest)  # nothing more of the story
    heard = rest[-1]
    assert isinstance(heard, dict) and "capital city of france" in heard["text"].lower()
    live.send(json.dumps({"type": "end_session"}))


def _live_sessions(stack: Stack) -> float:
    with stack.client("alice") as client:  # /metrics takes a key when auth is on
        lines = client.get("/metrics").text.splitlines()
    gauge = next(line for line in lines if line.startswith("visiovox_live_sessions "))
    return float(gauge.split()[1])


def test_a_whole_wav_message_is_one_turn(
    stack: Stack, live: ClientConnection, question_wav: bytes
) -> None:
    _start(live, system_prompt=SYSTEM, language="en")
    assert _live_sessions(stack) == 1  # the worker hosting it says so
    live.send(question_wav)
    complete = _until(live, "complete")[-1]
    assert isinstance(complete, dict) and complete["type"] == "complete", complete
    assert "capital city of france" in complete["transcription"].lower()
    live.send(json.dumps({"type": "end_session"}))


def _closed_with(stack: Stack, first: str | bytes, *, key: str | None = None) -> int:
    with connect(live_assistant_url(stack, key)) as socket:
        with contextlib.suppress(ConnectionClosed):  # a bad key closes before it is read
            socket.send(first)
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def test_expired_foreign_and_missing_sessions_are_refused(stack: Stack) -> None:
    with stack.client("alice") as alice, stack.client("bob") as bob:
        expired = alice.post("/v1/assistant/sessions", json={}).json()["id"]
        foreign = bob.post("/v1/assistant/sessions", json={}).json()["id"]
        client = redis.Redis.from_url(stack.redis.url)
        try:
            assert client.expire(f"vv:session:{expired}", 0)  # as the TTL would
        finally:
            client.close()
        for session_id in (expired, foreign):
            answer = alice.get(f"/v1/assistant/sessions/{session_id}")
            assert answer.status_code == 404
            assert answer.json()["error"]["code"] == "session_not_found"
            start = json.dumps({"type": "start_session", "session_id": session_id})
            assert _closed_with(stack, start) == 4404
    assert _closed_with(stack, b"\x00\x00") == 4400  # audio before start_session
    with stack.client("alice") as alice:
        answer = alice.post("/v1/jobs/assistant-live", json={"session_id": expired})
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "live_pipeline"
    assert _closed_with(stack, json.dumps({"type": "start_session"}), key="vv-bad") == 4401


def test_an_invalid_start_session_stores_nothing(stack: Stack) -> None:
    with stack.client("alice") as alice:
        before = {s["id"] for s in alice.get("/v1/assistant/sessions").json()["data"]}
        for bad in (
            {"system_prompt": "x" * 900_000},
            {"language": "english"},
            {"voice": "v" * 65},
        ):
            start = json.dumps({"type": "start_session", **bad})
            assert _closed_with(stack, start) == 4422, bad
        after = {s["id"] for s in alice.get("/v1/assistant/sessions").json()["data"]}
    assert after == before
    client = redis.Redis.from_url(stack.redis.url)
    try:
        sessions = [k for k in client.scan_iter("vv:session:*") if not k.endswith(b":history")]
        prompts = [client.hget(key, "system_prompt") for key in sessions]
    finally:
        client.close()
    assert all(len(prompt or b"") <= 4_000 for prompt in prompts)
