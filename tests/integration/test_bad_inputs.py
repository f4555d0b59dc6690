"""Bad input gets a 4xx JSON error with a code, and leaves no job behind."""

from __future__ import annotations

import select
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests import bombs
from tests.faces import ASTRONAUT
from tests.integration.bomb_load import BOMBS, measure_bomb
from tests.integration.stack import Stack, orphan_job_dirs, wait_for_job, wait_until


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def job_count(client: httpx.Client) -> int:
    return len(client.get("/v1/jobs", params={"limit": 100}).json()["data"])


@pytest.fixture
def alice(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("alice") as client:
        before = job_count(client)
        yield client
        assert job_count(client) == before, "a rejected request left a job behind"
        assert not orphan_job_dirs(stack), "a rejected request left files behind"


@pytest.fixture(scope="module")
def mp3_speech(stack: Stack) -> bytes:
    with stack.client("bob") as client:
        job_id = client.post(
            "/v1/jobs/tts",
            data={"text": "One two three four five six seven eight.", "format": "mp3"},
        ).json()["id"]
        job = wait_for_job(client, job_id, timeout_s=120)
        return client.get(job["outputs"][0]["url"]).content


def test_empty_upload(alice: httpx.Client) -> None:
    response = alice.post("/v1/jobs/stt", files={"file": ("a.wav", b"", "audio/wav")})
    assert_error(response, 400, "empty_upload")


def test_upload_over_the_cap(alice: httpx.Client) -> None:
    response = alice.post(
        "/v1/jobs/stt", files={"file": ("big.wav", b"\0" * 4_000_000, "audio/wav")}
    )
    assert_error(response, 413, "upload_too_large")


OFFERED = 200_000_000


def test_upload_over_the_cap_is_rejected_while_streaming(stack: Stack, alice: httpx.Client) -> None:
    """The 413 arrives while the client is still sending: the server did not buffer the rest."""
    boundary = "vvboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    request = (
        "POST /v1/jobs/stt HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {stack.api_keys['alice']}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"\0" * 100_000
    sent = 0
    reply = b""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as conn:
        conn.sendall(request + b"%x\r\n%s\r\n" % (len(head), head))
        while sent < OFFERED and b"\r\n\r\n" not in reply:
            try:
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                break  # the server closed the connection after answering
            sent += len(chunk)
            readable, _, _ = select.select([conn], [], [], 0)
            if readable:
                reply += conn.recv(65536)
        conn.settimeout(5)
        while b"}}" not in reply:
            data = conn.recv(65536)
            if not data:
                break
            reply += data
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b'"upload_too_large"' in reply
    # The cap is 3 MB; loopback socket buffers can absorb ~10 MB more before the server reads.
    assert sent < OFFERED // 5


def test_text_file_named_wav(alice: httpx.Client) -> None:
    text = b"This is not audio at all, just some words in a file.\n" * 20
    response = alice.post("/v1/jobs/stt", files={"file": ("speech.wav", text, "audio/wav")})
    assert_error(response, 415, "unsupported_media_type")


def test_truncated_mp3(mp3_speech: bytes, alice: httpx.Client) -> None:
    cut = mp3_speech[: len(mp3_speech) // 2]
    response = alice.post("/v1/jobs/stt", files={"file": ("speech.mp3", cut, "audio/mpeg")})
    assert_error(response, 400, "truncated_media")


def test_whole_mp3_is_accepted(stack: Stack, mp3_speech: bytes) -> None:
    with stack.client("bob") as client:
        response = client.post(
            "/v1/jobs/stt", files={"file": ("speech.mp3", mp3_speech, "audio/mpeg")}
        )
        assert response.status_code == 202, response.text
        assert wait_for_job(client, response.json()["id"], timeout_s=120)["status"] == "succeeded"


def test_text_over_the_limit(alice: httpx.Client) -> None:
    response = alice.post("/v1/jobs/tts", data={"text": "a" * 4097})
    assert_error(response, 422, "invalid_params")


def test_unknown_pipeline(alice: httpx.Client) -> None:
    assert_error(alice.post("/v1/jobs/teleport", data={"x": "1"}), 404, "unknown_pipeline")


def test_unknown_job(alice: httpx.Client) -> None:
    assert_error(alice.get("/v1/jobs/doesnotexist"), 404, "job_not_found")
    assert_error(alice.delete("/v1/jobs/doesnotexist"), 404, "job_not_found")


@pytest.fixture(scope="module")
def bobs_job(stack: Stack) -> dict[str, Any]:
    with stack.client("bob") as bob:
        job = bob.post("/v1/jobs/tts", data={"text": "Bob's words."}).json()
        return wait_for_job(bob, job["id"], timeout_s=120)


def test_another_owners_job_is_not_found(bobs_job: dict[str, Any], alice: httpx.Client) -> None:
    job = bobs_job
    assert_error(alice.get(f"/v1/jobs/{job['id']}"), 404, "job_not_found")
    assert_error(alice.delete(f"/v1/jobs/{job['id']}"), 404, "job_not_found")
    assert_error(alice.get(job["outputs"][0]["url"]), 404, "job_not_found")
    assert job["id"] not in {j["id"] for j in alice.get("/v1/jobs").json()["data"]}


def test_no_key(stack: Stack) -> None:
    with stack.client() as anonymous:
        assert_error(anonymous.get("/v1/jobs"), 401, "unauthorized")


# Eight bombs at once; before the header checks, eight 13000x13000 WebPs took the gateway
# from ~0.1 to 5.3 GB. Nothing is decoded now: the margin is for request buffers.
BOMB_COPIES = 8
BOMB_MEMORY_MARGIN_MB = 100


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_image_bombs_are_refused_and_the_gateway_memory_stays_flat(
    stack: Stack, alice: httpx.Client, bomb: str
) -> None:
    _, status, code = BOMBS[bomb]
    responses, memory = measure_bomb(stack, owner="alice", bomb=bomb, copies=BOMB_COPIES)
    for response in responses:
        assert_error(response, status, code)
        assert response.json()["error"]["message"].startswith("target: ")
    assert memory.peak_mb - memory.baseline_mb < BOMB_MEMORY_MARGIN_MB, memory


def blank_gif() -> bytes:
    """A GIF whose one image holds no pixel data: FFmpeg reads it as blank, OpenCV refuses it."""
    return bombs.gif(screen=(64, 64), images=((64, 64),))


def bad_checksum_png() -> bytes:
    """A PNG whose IDAT checksum is wrong: FFmpeg ignores it, libpng (OpenCV) refuses it."""
    return bombs.png_with_bad_crc(64, 64)


@pytest.mark.parametrize(
    ("pipeline", "field", "image", "other"),
    [
        ("face-swap", "target", blank_gif, "source"),
        ("face-swap", "target", bad_checksum_png, "source"),
        ("face-swap", "source", blank_gif, "target"),
        ("lip-sync", "face", blank_gif, "audio"),
        ("talking-avatar", "image", bad_checksum_png, "text"),
    ],
    ids=["face-swap-gif", "face-swap-png", "face-swap-source-gif", "lip-sync-gif", "avatar-png"],
)
def test_images_the_worker_cannot_decode_fail_as_invalid_media(
    stack: Stack,
    mp3_speech: bytes,
    pipeline: str,
    field: str,
    image: Callable[[], bytes],
    other: str,
) -> None:
    """They pass the gateway (FFmpeg decodes them); the job fails with a media code."""
    files = {field: ("upload", image())}
    data: dict[str, str] = {}
    if other == "audio":
        files["audio"] = ("speech.mp3", mp3_speech)
    elif other == "text":
        data["text"] = "Hello there."
    else:
        files[other] = ("face.png", ASTRONAUT.read_bytes())
    with stack.client("bob") as bob:
        response = bob.post(f"/v1/jobs/{pipeline}", files=files, data=data)
        assert response.status_code == 202, response.text
        job = wait_for_job(bob, response.json()["id"], timeout_s=180)
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "invalid_media", job["error"]
    assert job["error"]["message"].startswith(f"{field}: ")
    assert job["outputs"] == []
    assert stack.workers["w1"].poll() is None, "the worker died"
    wait_until(lambda: stack.worker_info("w1", states=("ready",)), timeout_s=30, what="w1 ready")
