"""The live session's messages: commands parse to their types, messages write the wire's JSON."""

from __future__ import annotations

from typing import Any

import pytest

from visiovox.pipelines.assistant_live.messages import (
    Command,
    Complete,
    EndReason,
    EndSession,
    EndTurn,
    Error,
    Outgoing,
    Processing,
    Ready,
    ResponseDelta,
    ResponseDone,
    Say,
    SessionEnded,
    Unknown,
    parse_command,
)


@pytest.mark.parametrize(
    ("message", "command"),
    [
        ({"type": "text", "text": "Hello"}, Say("Hello")),
        ({"type": "text"}, Say("")),
        ({"type": "end_turn"}, EndTurn()),
        ({"type": "end_session"}, EndSession()),
        ({"type": "bogus"}, Unknown("bogus")),
        ({}, Unknown(None)),
    ],
)
def test_a_command_parses_to_its_type(message: dict[str, Any], command: Command) -> None:
    assert parse_command(message) == command


@pytest.mark.parametrize(
    ("message", "wire"),
    [
        (Ready(), {"type": "ready"}),
        (Processing("generate"), {"type": "processing", "stage": "generate"}),
        (ResponseDelta("Par"), {"type": "response", "delta": "Par"}),
        (ResponseDone("Paris."), {"type": "response", "text": "Paris.", "final": True}),
        (Error("nothing_heard", "no"), {"type": "error", "code": "nothing_heard", "message": "no"}),
        (SessionEnded(EndReason.IDLE), {"type": "session_ended", "reason": "idle"}),
    ],
)
def test_a_message_writes_its_type_and_fields(message: Outgoing, wire: dict[str, Any]) -> None:
    assert message.to_json() == wire


def test_a_complete_message_keeps_its_fields_in_order() -> None:
    complete = Complete(
        transcription="hi",
        text="Hello.",
        usage={"total_tokens": 3},
        sentences=1,
        audio_s=0.5,
        speculative=False,
        dropped=0,
        timings={"complete": 0.1},
    )
    assert list(complete.to_json()) == [
        "type",
        "transcription",
        "text",
        "usage",
        "sentences",
        "audio_s",
        "speculative",
        "dropped",
        "timings",
    ]
