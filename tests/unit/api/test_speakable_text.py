"""Text for TTS with nothing speakable is refused at submission: 422 ``no_speakable_text``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.helpers import assert_error

INVISIBLE = "\u202e\u200b\ufeff"
EMOJI_BOMB = (INVISIBLE + "\U0001f600") * 500


@pytest.mark.parametrize("text", [INVISIBLE * 100, EMOJI_BOMB])
@pytest.mark.parametrize("pipeline", ["tts", "talking-avatar"])
def test_jobs_without_speakable_text_are_refused(
    client: TestClient, pipeline: str, text: str
) -> None:
    error = assert_error(
        client.post(f"/v1/jobs/{pipeline}", json={"text": text}), 422, "no_speakable_text"
    )
    assert error["message"].startswith("text: ")


def test_openai_speech_without_speakable_text_is_refused(client: TestClient) -> None:
    body = {"model": "tts-1", "voice": "alloy", "input": EMOJI_BOMB}
    assert_error(client.post("/v1/audio/speech", json=body), 422, "no_speakable_text")


def test_speakable_text_is_stored_without_its_invisible_characters(client: TestClient) -> None:
    response = client.post("/v1/jobs/tts", json={"text": "a" + EMOJI_BOMB})
    assert response.status_code == 202, response.text
    assert response.json()["params"]["text"] == "a" + "\U0001f600" * 500


def test_other_bad_params_stay_invalid_params(client: TestClient) -> None:
    assert_error(client.post("/v1/jobs/tts", json={"text": "x" * 4097}), 422, "invalid_params")


@pytest.mark.parametrize("body", [{}, {"text": "   "}, {"text": ""}])
def test_a_talking_avatar_with_neither_text_nor_audio_is_refused(
    client: TestClient, body: dict[str, str]
) -> None:
    error = assert_error(client.post("/v1/jobs/talking-avatar", json=body), 422, "missing_input")
    assert "audio" in error["message"] and "text" in error["message"]
