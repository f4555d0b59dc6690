"""voice-convert through the gateway and a real worker: converted speech, and its bad inputs."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import numpy.typing as npt
import pytest

from tests.integration.stack import Stack, wait_for_job
from tests.voices import semitones, tape_speed, write_wav, yin_median_f0
from visiovox.media.audio import decode_audio

RATE = 22_050
SOURCE_TEXT = "The quick brown fox jumps over the lazy dog near the old mill."
REFERENCE_TEXT = (
    "A large crowd gathered in the square to hear the mayor speak about the bridge. "
    "Then everyone walked home along the river before the rain came."
)


def decoded(data: bytes) -> npt.NDArray[np.float32]:
    """An audio file's bytes decoded at 22.05 kHz."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audio"
        path.write_bytes(data)
        return decode_audio(path, sample_rate=RATE)


@pytest.fixture
def alice(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("alice") as client:
        yield client


def spoken(client: httpx.Client, text: str) -> npt.NDArray[np.float32]:
    """``text`` spoken by the tts job (Piper joe), decoded at 22.05 kHz."""
    response = client.post("/v1/jobs/tts", data={"text": text, "format": "wav"})
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    return decoded(client.get(job["outputs"][0]["url"]).content)


@pytest.fixture(scope="module")
def voices(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Joe as the source, joe a fifth up as the reference, a short clip of it, and a hum."""
    folder = tmp_path_factory.mktemp("voices")
    with stack.client("alice") as client:
        source, reference = spoken(client, SOURCE_TEXT), spoken(client, REFERENCE_TEXT)
    other = tape_speed(reference, 1.5)
    t = np.arange(RATE * 5) / RATE
    hum = (0.2 * sum(np.sin(2 * np.pi * 220.0 * k * t) / k for k in range(1, 11))).astype(
        np.float32
    )
    made = {
        "audio": source,
        "reference": other,
        "short": other[: int(RATE * 2.5)],
        "hum": hum,
    }
    return {
        name: write_wav(samples, folder / f"{name}.wav").read_bytes()
        for name, samples in made.items()
    }


def _submit(
    client: httpx.Client, audio: bytes, reference: bytes | None, **params: str
) -> httpx.Response:
    files = {"audio": ("audio.wav", audio, "audio/wav")}
    if reference is not None:
        files["reference"] = ("reference.wav", reference, "audio/wav")
    return client.post("/v1/jobs/voice-convert", files=files, data=params)


def test_speech_comes_back_in_the_reference_voice(
    alice: httpx.Client, voices: dict[str, bytes]
) -> None:
    response = _submit(alice, voices["audio"], voices["reference"], format="flac")
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    (output,) = job["outputs"]
    assert (output["name"], output["content_type"]) == ("converted.flac", "audio/flac")
    converted = decoded(alice.get(output["url"]).content)
    source = decoded(voices["audio"])
    assert len(converted) == pytest.approx(len(source), rel=0.01)
    result = job["result"]
    assert result["engine"] == "voice.convert_psola"
    assert semitones(result["source_f0_median_hz"], result["target_f0_median_hz"]) >= 6.0
    assert set(result["timings_ms"]) == {"decode", "detect_speech", "analyse", "convert", "encode"}
    wanted = yin_median_f0(decoded(voices["reference"]), rate=RATE)
    assert abs(semitones(wanted, yin_median_f0(converted, rate=RATE))) <= 1.5


def test_a_short_reference_is_refused_at_the_gateway(
    alice: httpx.Client, voices: dict[str, bytes]
) -> None:
    response = _submit(alice, voices["audio"], voices["short"])
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "reference_too_short"


def test_a_reference_is_needed_without_a_voice(
    alice: httpx.Client, voices: dict[str, bytes]
) -> None:
    response = _submit(alice, voices["audio"], None)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "missing_input"


@pytest.mark.parametrize(("audio", "reference"), [("hum", "reference"), ("audio", "hum")])
def test_no_speech_fails_the_job(
    alice: httpx.Client, voices: dict[str, bytes], audio: str, reference: str
) -> None:
    response = _submit(alice, voices[audio], voices[reference])
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=120)
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "no_speech"
    assert job["outputs"] == []


def test_rvc_needs_a_registered_voice(alice: httpx.Client, voices: dict[str, bytes]) -> None:
    # An unknown voice is refused at submission (api/voice_check.py); rvc with none fails.
    unknown = _submit(alice, voices["audio"], voices["reference"], voice="v_missing")
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["error"]["code"] == "voice_not_found"
    response = _submit(alice, voices["audio"], voices["reference"], engine="rvc")
    assert response.status_code == 202, response.text
    job = wait_for_job(alice, response.json()["id"], timeout_s=120)
    assert (job["status"], job["error"]["code"]) == ("failed", "model_unavailable")
