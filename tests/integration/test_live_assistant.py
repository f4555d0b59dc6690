"""WS /v1/live/assistant against a real stack: PCM in, tokens and sentence audio out."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.integration.stack import Stack
from tests.wer import SPOKEN_QUESTION
from visiovox.media.audio import decode_audio

QUESTION = SPOKEN_QUESTION
SYSTEM = "You are a helpful assistant. Answer in one short sentence."


def _question_pcm(stack: Stack, tmp_path: Any) -> bytes:
    with stack.client("alice") as client:
        client.timeout = 60
        wav = client.post(
            "/v1/audio/speech",
            json={"model": "tts-1", "voice": "joe", "input": QUESTION, "response_format": "wav"},
        ).content
    path = tmp_path / "q.wav"
    path.write_bytes(wav)
    samples = decode_audio(path, sample_rate=16_000)
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def _turn(
    socket: Any, stages: list[str] | None = None
) -> tuple[list[str], list[bytes], dict[str, Any]]:
    tokens: list[str] = []
    audio: list[bytes] = []
    while True:
        message = socket.recv(timeout=60)
        if isinstance(message, bytes):
            audio.append(message)
            continue
        event = json.loads(message)
        if event["type"] == "token":
            tokens.append(event["text"])
        elif event["type"] == "processing" and stages is not None:
            stages.append(event["stage"])
        elif event["type"] in ("done", "error"):
            return tokens, audio, event


def test_spoken_turns_over_a_websocket(stack: Stack, tmp_path: Any) -> None:
    pcm = _question_pcm(stack, tmp_path)
    with stack.client("alice") as client:
        session_id = client.post("/v1/assistant/sessions", json={"system_prompt": SYSTEM}).json()[
            "id"
        ]
    ws_url = stack.base_url.replace("http", "ws", 1)
    key = stack.api_keys["alice"]
    url = f"{ws_url}/v1/live/assistant?session_id={session_id}&api_key={key}"
    with connect(url) as socket:
        assert json.loads(socket.recv(timeout=10)) == {
            "type": "session",
            "session_id": session_id,
        }
        for start in range(0, len(pcm), 8_000):
            socket.send(pcm[start : start + 8_000])
        socket.send(json.dumps({"type": "end_turn"}))
        stages: list[str] = []
        tokens, audio, done = _turn(socket, stages)
        assert stages == ["transcribe", "generate", "encode"]
        assert done["type"] == "done", done
        assert "capital city of france" in done["transcription"].lower()
        assert "Paris" in done["text"] and "".join(tokens).strip() == done["text"]
        assert audio and all(chunk.startswith(b"RIFF") for chunk in audio)

        socket.send(json.dumps({"type": "text", "text": "Thank you."}))
        _tokens, _audio, second = _turn(socket)
        assert second["type"] == "done" and second["transcription"] == "Thank you."
        socket.send(json.dumps({"type": "end_turn"}))
        assert _turn(socket)[2]["code"] == "invalid_message"
        socket.send(json.dumps({"type": "ping"}))
        assert json.loads(socket.recv(timeout=10)) == {"type": "pong"}

        with stack.client("alice") as client:
            messages = client.get(f"/v1/assistant/sessions/{session_id}").json()["messages"]
            assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
            socket.send(json.dumps({"type": "end_session"}))
            with pytest.raises(ConnectionClosed):
                socket.recv(timeout=10)
            assert client.get(f"/v1/assistant/sessions/{session_id}").status_code == 404


def test_unknown_session_closes_4404(stack: Stack) -> None:
    ws_url = stack.base_url.replace("http", "ws", 1)
    key = stack.api_keys["alice"]
    with (
        connect(f"{ws_url}/v1/live/assistant?session_id=nope&api_key={key}") as socket,
        pytest.raises(ConnectionClosed) as closed,
    ):
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
