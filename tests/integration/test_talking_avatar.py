"""talking-avatar and lip-sync through the gateway and a real worker: an MP4 comes back."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.faces import ASTRONAUT
from tests.integration.stack import Stack, wait_for_job
from tests.lipsync_checks import video_facts


@pytest.fixture
def alice(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("alice") as client:
        yield client


def blank_png() -> bytes:
    import cv2
    import numpy as np

    ok, encoded = cv2.imencode(".png", np.full((120, 160, 3), 90, dtype=np.uint8))
    assert ok
    return encoded.tobytes()


def test_text_becomes_a_talking_video(alice: httpx.Client, tmp_path: Path) -> None:
    response = alice.post(
        "/v1/jobs/talking-avatar", data={"text": "Hello, I am your avatar.", "size": "256"}
    )
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=180)
    assert job["status"] == "succeeded", job
    (output,) = job["outputs"]
    assert (output["name"], output["content_type"]) == ("video.mp4", "video/mp4")
    video = tmp_path / "video.mp4"
    video.write_bytes(alice.get(output["url"]).content)
    facts = video_facts(video)
    assert (facts.video_codec, facts.audio_codec, facts.fps) == ("h264", "aac", 25)
    assert abs(facts.frames - job["result"]["audio_duration_s"] * 25) <= 1
    assert job["result"]["engine"] == "lipsync.mouth_warp"


def spoken_wav(client: httpx.Client) -> bytes:
    """Speech to lip-sync (Silero VAD must hear a voice), made by the tts job as WAV."""
    response = client.post(
        "/v1/jobs/tts", data={"text": "Hello there, how are you today?", "format": "wav"}
    )
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    return client.get(job["outputs"][0]["url"]).content


def hum_wav(seconds: float) -> bytes:
    """A loud, steady 220 Hz sawtooth hum (ten harmonics), as 16-bit WAV: no voice in it."""
    import numpy as np

    from visiovox.media.audio import encode_audio

    rate = 16_000
    t = np.arange(int(rate * seconds)) / rate
    samples = 0.2 * sum(np.sin(2 * np.pi * 220.0 * k * t) / k for k in range(1, 11))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hum.wav"
        encode_audio(samples, sample_rate=rate, fmt="wav", path=path)
        return path.read_bytes()


def test_lip_sync_makes_a_portrait_speak_the_audio(alice: httpx.Client, tmp_path: Path) -> None:
    files = {
        "face": ("face.png", ASTRONAUT.read_bytes(), "image/png"),
        "audio": ("speech.wav", spoken_wav(alice), "audio/wav"),
    }
    response = alice.post("/v1/jobs/lip-sync", files=files, data={"size": "256"})
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=180)
    assert job["status"] == "succeeded", job
    video = tmp_path / "video.mp4"
    video.write_bytes(alice.get(job["outputs"][0]["url"]).content)
    facts = video_facts(video)
    assert (facts.audio_codec, facts.width) == ("aac", 256)
    assert abs(facts.frames - job["result"]["audio_duration_s"] * 25) <= 1


def test_lip_sync_of_a_hum_fails_with_no_speech(alice: httpx.Client) -> None:
    files = {
        "face": ("face.png", ASTRONAUT.read_bytes(), "image/png"),
        "audio": ("hum.wav", hum_wav(2.0), "audio/wav"),
    }
    response = alice.post("/v1/jobs/lip-sync", files=files)
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=180)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "no_speech" and "no speech" in job["error"]["message"]


def test_portrait_without_a_face_fails_the_job(alice: httpx.Client) -> None:
    files = {"image": ("blank.png", io.BytesIO(blank_png()), "image/png")}
    response = alice.post("/v1/jobs/talking-avatar", files=files, data={"text": "Hello there."})
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=180)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "no_face_found"


@pytest.mark.parametrize(
    ("pipeline", "files"),
    [
        ("talking-avatar", {"image": ("a.png", b"hello, not an image at all", "image/png")}),
        ("lip-sync", {"face": ("face.png", ASTRONAUT.read_bytes(), "image/png"),
                      "audio": ("speech.wav", ASTRONAUT.read_bytes(), "audio/wav")}),
    ],
)  # fmt: skip
def test_unsupported_formats_are_refused_at_the_door(
    alice: httpx.Client, pipeline: str, files: dict[str, tuple[str, bytes, str]]
) -> None:
    response = alice.post(f"/v1/jobs/{pipeline}", files=files, data={})
    assert response.status_code == 415, response.text
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_lip_sync_needs_its_audio(alice: httpx.Client) -> None:
    files = {"face": ("face.png", ASTRONAUT.read_bytes(), "image/png")}
    response = alice.post("/v1/jobs/lip-sync", files=files)
    assert response.status_code in (400, 422), response.text
    assert "audio" in response.json()["error"]["message"]
