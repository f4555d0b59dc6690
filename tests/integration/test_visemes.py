"""visemes through the gateway and a real worker: visemes.json of text, of speech, of silence."""

from __future__ import annotations

import io
import math
import wave
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.stack import Stack, wait_for_job

TEXT = "Bob bought a blue moon boat."


@pytest.fixture
def alice(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("alice") as client:
        yield client


def _outputs(client: httpx.Client, job: dict) -> dict[str, httpx.Response]:
    return {output["name"]: client.get(output["url"]) for output in job["outputs"]}


def test_text_and_speech_give_visemes_json(alice: httpx.Client) -> None:
    response = alice.post("/v1/jobs/visemes", data={"text": TEXT, "fps": "30"})
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    outputs = _outputs(alice, job)
    assert sorted(outputs) == ["speech.wav", "visemes.json"]
    with wave.open(io.BytesIO(outputs["speech.wav"].content)) as wav:
        audio_s = wav.getnframes() / wav.getframerate()
    document = outputs["visemes.json"].json()
    assert document["source"] == "phonemes" and document["fps"] == 30
    assert document["frame_count"] == len(document["frames"]) == math.ceil(audio_s * 30 - 1e-6)
    assert "PP" in {segment["viseme"] for segment in document["segments"]}

    # The same speech uploaded: HeadAudio hears it.
    files = {"audio": ("speech.wav", outputs["speech.wav"].content, "audio/wav")}
    response = alice.post("/v1/jobs/visemes", files=files, data={"fps": "25"})
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    heard = _outputs(alice, job)["visemes.json"].json()
    assert heard["source"] == "audio" and heard["frame_count"] == math.ceil(audio_s * 25 - 1e-6)


def test_tts_with_visemes_adds_visemes_json(alice: httpx.Client) -> None:
    data = {"text": TEXT, "format": "mp3", "visemes": "true", "visemes_fps": "24"}
    response = alice.post("/v1/jobs/tts", data=data)
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    outputs = _outputs(alice, job)
    assert sorted(outputs) == ["speech.mp3", "visemes.json"]
    assert outputs["visemes.json"].json()["fps"] == 24


def test_bad_visemes_input_is_a_clear_error(alice: httpx.Client) -> None:
    silence = io.BytesIO()
    with wave.open(silence, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16_000)
        wav.writeframes(bytes(2 * 16_000))
    files = {"audio": ("quiet.wav", silence.getvalue(), "audio/wav")}
    response = alice.post("/v1/jobs/visemes", files=files)
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=60)
    assert job["status"] == "failed" and job["error"]["code"] == "no_speech", job
    assert job["outputs"] == []

    for data, code in (
        ({}, "missing_input"),  # neither text nor audio
        ({"text": "a" * 20_000}, "invalid_params"),  # past the longest text
        ({"text": "Hi.", "fps": "0"}, "invalid_params"),
    ):
        response = alice.post("/v1/jobs/visemes", data=data)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == code
