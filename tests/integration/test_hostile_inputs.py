"""Hostile input (deep JSON, huge numbers, NaN, ids of other key types) gets a 4xx, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.integration.stack import Stack, wait_for_job

DEEP_ARRAY = b"[" * 50_000 + b"]" * 50_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
# Two unsigned 64-bit numbers make a Redis stream id: 2^64 is one past the largest.
PAST_U64 = str(2**64)
HUGE_NUMBER = "9" * 5_000  # past Python's 4300-digit int() limit


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


@pytest.fixture
def alice(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client("alice") as client:
        yield client


@pytest.fixture(scope="module")
def spoken(stack: Stack) -> dict[str, Any]:
    """A finished job of alice's with one output file."""
    with stack.client("alice") as client:
        job = client.post("/v1/jobs/tts", data={"text": "Ranges."}).json()
        return wait_for_job(client, job["id"], timeout_s=120)


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
@pytest.mark.parametrize(
    "path",
    ["/v1/jobs/noop", "/v1/chat/completions", "/v1/audio/speech", "/v1/assistant/sessions"],
)
def test_json_nested_50000_levels_is_400(alice: httpx.Client, path: str, body: bytes) -> None:
    response = alice.post(path, content=body, headers={"Content-Type": "application/json"})
    assert "nests" in assert_error(response, 400, "invalid_json")["message"]


def test_malformed_json_is_400_everywhere(alice: httpx.Client) -> None:
    for path in ("/v1/jobs/noop", "/v1/chat/completions", "/v1/audio/speech"):
        response = alice.post(path, content=b'{"a": ', headers={"Content-Type": "application/json"})
        assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize(
    "header",
    [f"bytes={HUGE_NUMBER}-", f"bytes=0-{HUGE_NUMBER}", f"bytes=-{HUGE_NUMBER}"],
    ids=["start", "end", "suffix"],
)
def test_range_with_5000_digits(alice: httpx.Client, spoken: dict[str, Any], header: str) -> None:
    """A start past the end is 416; an end or a suffix past it means the whole file (RFC 9110)."""
    output = spoken["outputs"][0]
    response = alice.get(output["url"], headers={"Range": header})
    if header.startswith(f"bytes={HUGE_NUMBER}"):
        assert_error(response, 416, "range_not_satisfiable")
        assert response.headers["content-range"] == f"bytes */{output['size']}"
    else:
        assert response.status_code == 206, response.text
        assert len(response.content) == output["size"]


@pytest.mark.parametrize(
    "cursor", ["nan", "NaN", "inf", "-inf", "1e400", HUGE_NUMBER, "-1", "1_0", " 1", "abc"]
)
def test_bad_cursors_are_422(alice: httpx.Client, cursor: str) -> None:
    assert_error(alice.get("/v1/jobs", params={"cursor": cursor}), 422, "invalid_cursor")


def test_a_cursor_from_the_api_pages_on(alice: httpx.Client, spoken: dict[str, Any]) -> None:
    alice.post("/v1/jobs/noop", json={})
    page = alice.get("/v1/jobs", params={"limit": 1}).json()
    following = alice.get("/v1/jobs", params={"limit": 1, "cursor": page["next_cursor"]})
    assert following.status_code == 200, following.text
    assert following.json()["data"][0]["id"] != page["data"][0]["id"]


@pytest.mark.parametrize(
    "event_id",
    [PAST_U64, f"1-{PAST_U64}", f"{2**64 - 1}-{2**64 - 1}", "1-0\n", "\u0661\u0662"],
    ids=["ms", "seq", "largest", "newline", "arabic-digits"],
)
def test_event_ids_past_u64_are_400(
    alice: httpx.Client, spoken: dict[str, Any], event_id: str
) -> None:
    url = f"/v1/jobs/{spoken['id']}/events"
    assert_error(alice.get(url, params={"after": event_id}), 400, "invalid_event_id")
    if event_id.isascii() and "\n" not in event_id:  # header values cannot carry these
        response = alice.get(url, headers={"Last-Event-ID": event_id})
        assert_error(response, 400, "invalid_event_id")


def test_the_largest_valid_event_id_streams(alice: httpx.Client, spoken: dict[str, Any]) -> None:
    """An id below 2^64 is valid: the finished job's stream has nothing after it and ends."""
    url = f"/v1/jobs/{spoken['id']}/events"
    response = alice.get(url, headers={"Last-Event-ID": f"{2**64 - 1}-0"})
    assert response.status_code == 200
    assert "event: error" not in response.text


def _ws_close(stack: Stack, path: str) -> tuple[int | None, str | None]:
    url = stack.base_url.replace("http", "ws") + path
    separator = "&" if "?" in path else "?"
    with connect(f"{url}{separator}api_key={stack.api_keys['alice']}") as conn:
        try:
            while True:
                conn.recv(timeout=30)
        except ConnectionClosed:
            return conn.close_code, conn.close_reason


def test_ws_after_past_u64_closes_4400(stack: Stack, spoken: dict[str, Any]) -> None:
    code, reason = _ws_close(stack, f"/v1/jobs/{spoken['id']}/ws?after={PAST_U64}")
    assert (code, reason) == (4400, "invalid_event_id")


def test_ws_with_a_malformed_job_id_closes_4404(stack: Stack, spoken: dict[str, Any]) -> None:
    assert _ws_close(stack, f"/v1/jobs/{spoken['id']}:lease/ws") == (4404, "job_not_found")


def test_job_ids_naming_other_keys_are_404(stack: Stack, alice: httpx.Client) -> None:
    """While a job runs, ``<id>:lease`` names its lease (a string): never read as a job."""
    job_id = alice.post("/v1/jobs/noop", json={"sleep_s": 20, "steps": 200}).json()["id"]
    wait_for_job(alice, job_id, until={"running"})
    lease = f"{job_id}:lease"
    assert redis.Redis.from_url(stack.redis.url).exists(f"vv:job:{lease}")
    try:
        for response in (
            alice.get(f"/v1/jobs/{lease}"),
            alice.delete(f"/v1/jobs/{lease}"),
            alice.get(f"/v1/jobs/{lease}/events"),
            alice.get(f"/v1/jobs/{lease}/files/speech.wav"),
        ):
            assert_error(response, 404, "job_not_found")
    finally:
        alice.delete(f"/v1/jobs/{job_id}")


def test_session_ids_naming_other_keys_are_404(stack: Stack, alice: httpx.Client) -> None:
    """``<id>:history`` names the session's history (a list): never read as a session."""
    session_id = alice.post("/v1/assistant/sessions", json={}).json()["id"]
    history = f"{session_id}:history"
    # What a first turn leaves: the history list beside the session hash.
    redis.Redis.from_url(stack.redis.url).rpush(f"vv:session:{history}", '{"role": "user"}')
    try:
        for response in (
            alice.get(f"/v1/assistant/sessions/{history}"),
            alice.delete(f"/v1/assistant/sessions/{history}"),
            alice.post(f"/v1/assistant/sessions/{history}/turns", data={"text": "hi"}),
        ):
            assert_error(response, 404, "session_not_found")
    finally:
        alice.delete(f"/v1/assistant/sessions/{session_id}")


@pytest.mark.parametrize("text", ["a\u0000b", "a\u0000b\u0007\u001b[31m"], ids=["nul", "controls"])
def test_speech_with_control_characters_is_spoken(alice: httpx.Client, text: str) -> None:
    body = {"model": "tts-1", "input": text, "voice": "alloy", "response_format": "wav"}
    response = alice.post("/v1/audio/speech", json=body)
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"RIFF")


def test_speech_of_control_characters_only_is_422(alice: httpx.Client) -> None:
    body = {"model": "tts-1", "input": "\u0000\u0007", "voice": "alloy"}
    assert_error(alice.post("/v1/audio/speech", json=body), 422, "no_speakable_text")


LONG_PROMPT = [{"role": "user", "content": "hello world " * 1_500}]  # ~3000 tokens
CONTEXT_MESSAGE = (
    r"the messages are (?P<prompt>\d+) tokens, over the model's context window "
    r"of (?P<context>\d+) tokens; shorten the messages"
)


def test_chat_over_the_context_window_is_openais_400(alice: httpx.Client) -> None:
    response = alice.post("/v1/chat/completions", json={"model": "m", "messages": LONG_PROMPT})
    error = assert_error(response, 400, "context_length_exceeded")
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "messages"
    numbers = re.fullmatch(CONTEXT_MESSAGE, error["message"])
    assert numbers is not None, error["message"]
    assert int(numbers["prompt"]) > int(numbers["context"]) == 2048  # llm.n_ctx's default


def test_the_chat_job_fails_with_context_length_exceeded(alice: httpx.Client) -> None:
    job = alice.post("/v1/jobs/chat", json={"messages": LONG_PROMPT}).json()
    failed = wait_for_job(alice, job["id"], timeout_s=120)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "context_length_exceeded"
    assert re.fullmatch(CONTEXT_MESSAGE, failed["error"]["message"])


def test_a_form_field_sent_10000_times_is_422(alice: httpx.Client) -> None:
    urlencoded = "&".join(["text=again"] * 10_000)
    response = alice.post(
        "/v1/jobs/tts",
        content=urlencoded,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "'text'" in assert_error(response, 422, "repeated_field")["message"]
    body = b"".join(
        b'--b\r\nContent-Disposition: form-data; name="text"\r\n\r\nagain\r\n' for _ in range(50)
    )
    response = alice.post(
        "/v1/jobs/tts",
        content=body + b"--b--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert "'text'" in assert_error(response, 422, "repeated_field")["message"]


def test_list_fields_may_repeat(alice: httpx.Client) -> None:
    """OpenAI's ``timestamp_granularities[]`` is a list: repeating it is no error."""
    response = alice.post(
        "/v1/audio/transcriptions",
        data={"timestamp_granularities[]": ["word", "segment"]},
        files={"file": ("a.wav", b"", "audio/wav")},
    )
    assert_error(response, 400, "empty_upload")
