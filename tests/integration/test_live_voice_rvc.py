"""WS /v1/live/voice with a registered RVC voice, on stand-in shared models (a private stack).

The worker's manifest is the project's plus stand-ins of ContentVec and RMVPE
(``tests/unit/engines/voice/rvc_graphs.py``: the real graphs' names and shapes),
already in its cache and pulled (verified), so the session starts at once; the converted PCM comes
back at the session's rate, as long as the input. What the stand-ins sound like
is no measure of RVC: this tests the live path, not the voice.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from websockets.sync.client import connect

from tests.integration.stack import Stack, wait_for_job
from tests.unit.engines.voice.rvc_graphs import project_manifest_with_stand_ins, synthesizer_graph
from visiovox.engines.voice.rvc import CONTENT_ENCODER, PITCH_MODEL

RATE = 48_000


def test_a_registered_voice_converts_live(make_stack: Callable[..., Stack], tmp_path: Path) -> None:
    stack = make_stack(settings=project_manifest_with_stand_ins(tmp_path / "rvc"))
    # A live session takes only verified models: pulled (their hashes checked) before it starts.
    subprocess.run(
        [sys.executable, "-m", "visiovox", "models", "pull", CONTENT_ENCODER, PITCH_MODEL],
        env=stack.env,
        cwd=stack.root,
        check=True,
        capture_output=True,
    )
    graph = synthesizer_graph(tmp_path / "voice.onnx", sample_rate=40_000).read_bytes()
    with stack.client() as client:
        answer = client.post(
            "/v1/voices",
            data={"name": "alto", "sample_rate": "40000"},
            files={"model": ("voice.onnx", graph, "application/octet-stream")},
        )
        assert answer.status_code == 202, answer.text
        done = wait_for_job(client, answer.json()["job"]["id"])
        assert done["status"] == "succeeded", done
    voice = answer.json()["voice"]["id"]
    t = np.arange(2 * RATE) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 150.0 * t) * 32767).astype("<i2").tobytes()
    chunk = 2 * RATE // 50  # 20 ms
    with connect(stack.ws_url("/v1/live/voice"), max_size=None) as socket:
        start = {"type": "start_session", "voice": voice, "sample_rate": RATE, "pitch_shift": 3}
        socket.send(json.dumps(start))
        assert json.loads(socket.recv(timeout=10))["type"] == "session_started"
        assert json.loads(socket.recv(timeout=30)) == {"type": "ready"}, stack.logs()
        for offset in range(0, len(tone), chunk):
            socket.send(tone[offset : offset + chunk])
        socket.send(json.dumps({"type": "end_session"}))
        audio, last = b"", None
        while True:
            message = socket.recv(timeout=60)
            if isinstance(message, bytes):
                audio += message
            elif (last := json.loads(message))["type"] != "stats":
                break
    assert last == {"type": "session_ended", "reason": "end_session"}, last
    assert len(audio) == len(tone)
    assert np.abs(np.frombuffer(audio, "<i2")).max() > 0  # converted, not silence
