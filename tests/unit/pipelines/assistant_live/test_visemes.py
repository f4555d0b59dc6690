"""The live assistant with ``visemes``: each sentence's visemes come just before its audio."""

from __future__ import annotations

import io
import math
import wave
from typing import Any

from visiovox.pipelines.assistant_live.spec import SPEC
from visiovox.pipelines.testing import LocalContext, run_pipeline


def _wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as wav:
        return wav.getnframes() / wav.getframerate()


def test_each_sentence_is_announced_by_its_visemes(ctx: LocalContext) -> None:
    link = ctx.link

    def on_send(item: dict[str, Any] | bytes) -> None:
        if isinstance(item, dict) and item["type"] == "complete":
            link.put_command({"type": "end_session"})

    link.on_send = on_send
    link.put_command({"type": "text", "text": "Name two big blue birds, please."})
    params = {"session_id": "s1", "max_tokens": 48, "visemes": True, "fps": 30}
    run_pipeline(SPEC, params, ctx)

    sent = link.sent
    visemes = [
        i for i, item in enumerate(sent) if isinstance(item, dict) and item["type"] == "visemes"
    ]
    audio = [i for i, item in enumerate(sent) if isinstance(item, bytes)]
    assert visemes and len(visemes) == len(audio)
    for number, (at, audio_at) in enumerate(zip(visemes, audio, strict=True)):
        message = sent[at]
        assert isinstance(message, dict) and at < audio_at  # the visemes come first
        assert message["sentence"] == number and message["fps"] == 30
        seconds = _wav_seconds(sent[audio_at])  # type: ignore[arg-type]
        assert abs(message["duration_s"] - seconds) < 1e-3
        assert len(message["frames"]) == math.ceil(round(seconds * 30, 6))
        assert len(message["visemes"]) == 15 and "jawOpen" in message["blendshapes"]
        assert len({frame["viseme"] for frame in message["frames"]}) >= 3


def test_no_visemes_unless_asked(ctx: LocalContext) -> None:
    link = ctx.link

    def on_send(item: dict[str, Any] | bytes) -> None:
        if isinstance(item, dict) and item["type"] == "complete":
            link.put_command({"type": "end_session"})

    link.on_send = on_send
    link.put_command({"type": "text", "text": "Say hi."})
    run_pipeline(SPEC, {"session_id": "s1", "max_tokens": 16}, ctx)
    assert "visemes" not in [m["type"] for m in link.messages()]
