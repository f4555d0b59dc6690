"""A live session counts against its owner's max_live from the moment its job is created."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.unit.api.conftest import SettingsFactory
from visiovox.api.app import create_app


def test_a_second_live_session_past_max_live_closes_4429(make_settings: SettingsFactory) -> None:
    settings = make_settings(limits={"anonymous": {"max_live": 1}})
    with TestClient(create_app(settings)) as client:
        # No worker: the first session's job waits queued, and counts.
        with client.websocket_connect("/v1/live/assistant") as first:
            first.send_json({"type": "start_session"})
            assert first.receive_json()["type"] == "session_started"
            with client.websocket_connect("/v1/live/assistant") as second:
                second.send_json({"type": "start_session"})
                closed = second.receive()
                assert closed == {
                    "type": "websocket.close",
                    "code": 4429,
                    "reason": "quota_exceeded",
                }
        # Closing the first socket cancels its job, which frees the place.
        with client.websocket_connect("/v1/live/assistant") as third:
            third.send_json({"type": "start_session"})
            assert third.receive_json()["type"] == "session_started"
