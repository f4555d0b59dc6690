"""WS /v1/live/assistant with ``"visemes": true`` on a real stack: visemes before each audio."""

from __future__ import annotations

import io
import json
import math
import wave
from typing import Any

from websockets.sync.client import connect

from tests.integration.stack import Stack

TIMEOUT_S = 60


def _ends_turn(item: dict[str, Any] | bytes) -> bool:
    return isinstance(item, dict) and item["type"] in ("complete", "error")


def test_each_reply_sentence_comes_with_its_visemes(stack: Stack) -> None:
    url = stack.ws_url("/v1/live/assistant", key=stack.api_keys["alice"])
    with connect(url, max_size=None) as socket:
        start = {"type": "start_session", "language": "en", "visemes": True, "fps": 20}
        socket.send(json.dumps(start))
        assert json.loads(socket.recv(timeout=10))["type"] == "session_started"
        assert json.loads(socket.recv(timeout=TIMEOUT_S)) == {"type": "ready"}
        socket.send(json.dumps({"type": "text", "text": "Say hello to Bob and Pam."}))
        received: list[dict[str, Any] | bytes] = []
        while not received or not _ends_turn(received[-1]):
            message = socket.recv(timeout=TIMEOUT_S)
            received.append(message if isinstance(message, bytes) else json.loads(message))
        socket.send(json.dumps({"type": "end_session"}))

    assert isinstance(received[-1], dict) and received[-1]["type"] == "complete", received[-1]
    pairs = [
        (item, received[at + 1])
        for at, item in enumerate(received)
        if isinstance(item, dict) and item["type"] == "visemes"
    ]
    audio = [item for item in received if isinstance(item, bytes)]
    assert pairs and len(pairs) == len(audio)
    for number, (visemes, wav_bytes) in enumerate(pairs):
        assert isinstance(wav_bytes, bytes)  # the sentence's audio follows its visemes
        with wave.open(io.BytesIO(wav_bytes)) as wav:
            seconds = wav.getnframes() / wav.getframerate()
        assert visemes["sentence"] == number and visemes["fps"] == 20
        assert len(visemes["frames"]) == math.ceil(round(seconds * 20, 6))
