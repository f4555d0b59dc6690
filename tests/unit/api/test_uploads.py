"""Uploads: streamed to disk under the cap, typed from their bytes, probed, cleaned on failure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests import bombs
from tests.unit.api.conftest import UPLOAD_CAP, SettingsFactory
from tests.unit.api.helpers import asgi_client, assert_error, wav_bytes
from visiovox.api.app import create_app
from visiovox.config import Settings
from visiovox.media._av import av
from visiovox.pipelines.spec import PipelineSpec

BOUNDARY = "vvtestboundary"
CHUNK = 16 * 1024


def job_dirs(settings: Settings) -> list[Path]:
    root = settings.storage.root / "jobs"
    return sorted(root.iterdir()) if root.is_dir() else []


def test_an_audio_upload_is_stored_under_a_server_name_and_probed(
    client: TestClient, settings: Settings, listen_pipeline: PipelineSpec
) -> None:
    audio = wav_bytes(0.5)
    response = client.post(
        "/v1/jobs/listen",
        files={"audio": ("../../my voice.mp3", audio, "audio/mpeg")},
        data={"language": "fr"},
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["params"] == {"language": "fr"}
    [entry] = job["inputs"]
    assert entry["field"] == "audio"
    assert entry["content_type"] == "audio/wav"
    assert entry["size"] == len(audio)
    assert entry["filename"] == "../../my voice.mp3"
    assert entry["duration_s"] == pytest.approx(0.5, abs=0.01)
    [folder] = job_dirs(settings)
    assert folder.name == job["id"]
    stored = folder / "in" / "audio.wav"
    assert stored.read_bytes() == audio
    assert sorted(p.name for p in (folder / "in").iterdir()) == ["audio.wav"]


@pytest.mark.anyio
async def test_a_body_over_the_cap_stops_while_streaming(
    settings: Settings, listen_pipeline: PipelineSpec
) -> None:
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        head = (
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=audio; filename=a.wav\r\n"
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        yield head
        sent += len(head)
        for _ in range(10 * UPLOAD_CAP // CHUNK):
            yield b"\0" * CHUNK
            sent += CHUNK
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    async with asgi_client(settings) as http:
        response = await http.post(
            "/v1/jobs/listen",
            content=body(),
            headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
    assert_error(response, 413, "upload_too_large")
    assert sent <= UPLOAD_CAP + CHUNK, "the server kept reading past the cap"
    assert job_dirs(settings) == []


@pytest.mark.anyio
async def test_a_declared_length_over_the_cap_is_refused_before_reading(
    settings: Settings, listen_pipeline: PipelineSpec
) -> None:
    read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(4):
            read += 1
            yield b"\0" * (UPLOAD_CAP // 2)

    async with asgi_client(settings) as http:
        response = await http.post(
            "/v1/jobs/listen",
            content=body(),
            headers={
                "content-type": f"multipart/form-data; boundary={BOUNDARY}",
                "content-length": str(2 * UPLOAD_CAP),
            },
        )
    assert_error(response, 413, "upload_too_large")
    assert read == 0


def test_an_empty_file_is_400(
    client: TestClient, settings: Settings, listen_pipeline: PipelineSpec
) -> None:
    response = client.post("/v1/jobs/listen", files={"audio": ("a.wav", b"", "audio/wav")})
    assert_error(response, 400, "empty_upload")
    assert job_dirs(settings) == []


def test_text_named_wav_is_415_naming_the_accepted_kinds(
    client: TestClient, settings: Settings, listen_pipeline: PipelineSpec
) -> None:
    response = client.post(
        "/v1/jobs/listen", files={"audio": ("speech.wav", b"hello, I am text\n" * 50, "audio/wav")}
    )
    error = assert_error(response, 415, "unsupported_media_type")
    assert "audio" in error["message"]
    image_as_audio = client.post(
        "/v1/jobs/listen",
        files={"audio": ("a.wav", wav_bytes(0.2)), "picture": ("p.png", wav_bytes(0.2))},
    )
    error = assert_error(image_as_audio, 415, "unsupported_media_type")
    assert "picture" in error["message"] and "image" in error["message"]
    assert job_dirs(settings) == []


def test_broken_and_overlong_media_are_rejected(
    client: TestClient, settings: Settings, listen_pipeline: PipelineSpec
) -> None:
    cut = wav_bytes(2.0)[:2000]
    assert_error(
        client.post("/v1/jobs/listen", files={"audio": ("a.wav", cut)}), 400, "truncated_media"
    )
    garbage = b"RIFF\x24\x00\x00\x00WAVEjunk" + b"\x13" * 200
    assert_error(
        client.post("/v1/jobs/listen", files={"audio": ("a.wav", garbage)}), 400, "invalid_media"
    )
    too_long = client.post("/v1/jobs/listen", files={"audio": ("a.wav", wav_bytes(6.0))})
    assert_error(too_long, 413, "too_long")
    assert job_dirs(settings) == []


def test_unknown_and_missing_file_fields(
    client: TestClient, settings: Settings, listen_pipeline: PipelineSpec
) -> None:
    unknown = client.post(
        "/v1/jobs/listen",
        files={"audio": ("a.wav", wav_bytes(0.2)), "video": ("v.mp4", b"x" * 10)},
    )
    assert "video" in assert_error(unknown, 400, "unknown_input")["message"]
    missing = client.post("/v1/jobs/listen", data={"language": "en"})
    assert "audio" in assert_error(missing, 422, "missing_input")["message"]
    missing_json = client.post("/v1/jobs/listen", json={"language": "en"})
    assert_error(missing_json, 422, "missing_input")
    assert job_dirs(settings) == []


def test_bad_params_after_an_upload_remove_the_files(
    client: TestClient, settings: Settings, listen_pipeline: PipelineSpec
) -> None:
    response = client.post(
        "/v1/jobs/listen", files={"audio": ("a.wav", wav_bytes(0.2))}, data={"language": "x"}
    )
    assert "language" in assert_error(response, 422, "invalid_params")["message"]
    assert job_dirs(settings) == []


def test_a_redis_outage_after_the_upload_removes_the_files(
    make_settings: SettingsFactory, tmp_path: Path, listen_pipeline: PipelineSpec
) -> None:
    settings = make_settings(
        redis={"url": f"unix://{tmp_path}/absent.sock", "connect_timeout_s": 0.2}
    )
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/jobs/listen", files={"audio": ("a.wav", wav_bytes(0.2))})
    assert_error(response, 503, "redis_unavailable")
    assert job_dirs(settings) == []


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (bombs.webp_canvas_around(canvas=(1, 1), frame=(13_000, 13_000)), 413, "too_large"),
        (bombs.webp_canvas_around(canvas=(1, 1), frame=(4_000, 4_000)), 400, "invalid_media"),
        (bombs.gif(screen=(1, 1), images=((30_000, 30_000),)), 413, "too_large"),
        (bombs.apng(size=(1, 1), frame=(3_000, 3_000)), 400, "invalid_media"),
    ],
    ids=["webp-13000-in-1x1", "webp-4000-in-1x1", "gif-30000-in-1x1", "apng-fctl-over-ihdr"],
)
def test_image_bombs_are_refused_before_ffmpeg_opens_them(
    client: TestClient,
    settings: Settings,
    listen_pipeline: PipelineSpec,
    monkeypatch: pytest.MonkeyPatch,
    data: bytes,
    status: int,
    code: str,
) -> None:
    opened: list[str] = []
    ffmpeg_open = av.open

    def open_and_note(file: object, *args: object, **kwargs: object) -> object:
        opened.append(Path(str(file)).name)
        return ffmpeg_open(file, *args, **kwargs)

    monkeypatch.setattr(av, "open", open_and_note)
    response = client.post(
        "/v1/jobs/listen",
        files={"picture": ("p.webp", data), "audio": ("a.wav", wav_bytes(0.2))},
    )
    assert assert_error(response, status, code)["message"].startswith("picture: ")
    assert "picture" not in opened
    assert job_dirs(settings) == []
