"""The CLI's SSE reader: frames, keep-alives, error frames, and the exit codes of statuses."""

from __future__ import annotations

from visiovox.cli_jobs.outcome import Exit, for_api_error
from visiovox.cli_jobs.sse import KEEPALIVE, ServerEvent, read_events


def test_frames_keepalives_and_error_frames() -> None:
    lines = [
        ": keep-alive",
        "",
        "id: 1-0",
        "event: progress",
        'data: {"type": "progress", "data": {"percent": 50}}',
        "",
        "retry: 2000",
        "event: error",
        'data: {"error": {"code": "redis_unavailable", "message": "later"}}',
        "",
    ]
    assert list(read_events(lines)) == [
        KEEPALIVE,
        ServerEvent("1-0", "progress", {"type": "progress", "data": {"percent": 50}}),
        ServerEvent(None, "error", {"error": {"code": "redis_unavailable", "message": "later"}}),
    ]


def test_a_frame_without_its_blank_line_is_not_yet_an_event() -> None:
    assert list(read_events([b"id: 1-0", b"event: started", b'data: {"a": 1}'])) == []


def test_exit_codes_for_statuses_and_api_errors() -> None:
    assert [Exit.for_status(s) for s in ("succeeded", "failed", "canceled")] == [0, 1, 3]
    assert for_api_error(401, "unauthorized", "no key").exit is Exit.UNREACHABLE
    assert for_api_error(503, "no_capable_worker", "none").exit is Exit.UNREACHABLE
    assert for_api_error(422, "invalid_params", "bad").exit is Exit.USAGE
