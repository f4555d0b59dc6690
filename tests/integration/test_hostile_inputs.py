"""Hostile input (deep JSON, huge numbers, NaN, ids of other key types) gets a 4xx, never a 500."""

from __future__ import annotations

import io
import json
import re
import socket
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.integration.stack import Stack, orphan_job_dirs, wait_for_job

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


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/v1/jobs?limit=1&limit=2", "limit"),
        ("/v1/jobs?cursor=a&cursor=b", "cursor"),
        ("/v1/jobs?%6Cimit=1&limit=2", "limit"),  # the same name, percent-encoded
        ("/v1/jobs/x/events?after=0-0&after=0-1", "after"),
        ("/v1/assistant/sessions/x/turns?wait=true&wait=false", "wait"),
    ],
    ids=["limit", "cursor", "encoded-name", "after", "wait"],
)
def test_a_repeated_query_parameter_is_422(alice: httpx.Client, url: str, name: str) -> None:
    response = alice.request("POST" if "turns" in url else "GET", url)
    assert f"{name!r}" in assert_error(response, 422, "repeated_field")["message"]


def test_a_query_parameter_repeated_5000_times_is_422(alice: httpx.Client) -> None:
    # 5,000 copies fit the 64 KiB header cap (and httpx's URL limit).
    response = alice.get("/v1/jobs?" + "&".join(["limit=1"] * 5_000))
    assert_error(response, 422, "repeated_field")


def test_ws_with_a_repeated_api_key_closes_4422(stack: Stack) -> None:
    path = f"/v1/live/assistant?api_key={stack.api_keys['alice']}"
    assert _ws_close(stack, path) == (4422, "repeated_field")


def _raw_answer(stack: Stack, request: bytes) -> tuple[bytes, dict[bytes, bytes], bytes]:
    """Status line, headers and body of the gateway's answer to raw ``request`` bytes."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers = dict(line.lower().split(b": ", 1) for line in lines)
    return status, headers, body


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n",
        b"GET /v1/jobs/\xff HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/jobs?cursor=\xff HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v1/jobs/noop HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
        b"POST /v1/jobs/noop HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
        b"POST /v1/jobs/noop HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    ],
    ids=[
        "request-line",
        "version",
        "header-name",
        "header-control",
        "path-byte",
        "query-byte",
        "chunk-size",
        "two-lengths",
        "length",
    ],
)
def test_unparsable_http_is_a_json_400(stack: Stack, request_bytes: bytes) -> None:
    status, headers, body = _raw_answer(stack, request_bytes)
    assert status == b"HTTP/1.1 400 Bad Request"
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"connection"] == b"close"
    error = json.loads(body)["error"]
    assert error["code"] == "invalid_http" and "not valid HTTP/1.1" in error["message"]


@pytest.mark.parametrize(
    "path", ["/v1/chat/completions", "/v1/audio/speech", "/v1/assistant/sessions"]
)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_json_route_with_another_content_type_is_415(
    alice: httpx.Client, path: str, content_type: str
) -> None:
    body = b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]}'
    response = alice.post(path, content=body, headers={"Content-Type": content_type})
    assert content_type in assert_error(response, 415, "unsupported_content_type")["message"]


def test_a_json_body_that_is_not_utf8_is_400(alice: httpx.Client) -> None:
    body = b'{"model": "\xff", "messages": [{"role": "user", "content": "hi"}]}'
    response = alice.post(
        "/v1/chat/completions", content=body, headers={"Content-Type": "application/json"}
    )
    assert "utf-8" in assert_error(response, 400, "invalid_json")["message"]


def test_a_form_field_percent_encoding_non_utf8_is_400(alice: httpx.Client) -> None:
    response = alice.post(
        "/v1/jobs/tts",
        content=b"text=%FF%FE",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 400, "invalid_body")


def test_a_stream_over_the_context_window_is_openais_400(alice: httpx.Client) -> None:
    """The status waits for the first token, so the refusal is a 400, not a 200's frame."""
    body = {"model": "m", "messages": LONG_PROMPT, "stream": True}
    response = alice.post("/v1/chat/completions", json=body)
    error = assert_error(response, 400, "context_length_exceeded")
    assert (error["type"], error["param"]) == ("invalid_request_error", "messages")
    assert re.fullmatch(CONTEXT_MESSAGE, error["message"])


def test_a_stream_still_streams(alice: httpx.Client) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
    with alice.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        frames = [line for line in response.iter_lines() if line.startswith("data: ")]
    chunks = [json.loads(frame[6:]) for frame in frames[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert any(chunk["choices"][0]["delta"].get("content") for chunk in chunks[1:])
    assert frames[-1] == "data: [DONE]"


def _ws_start(stack: Stack, command: dict[str, Any]) -> tuple[int | None, str | None]:
    url = stack.base_url.replace("http", "ws") + "/v1/live/assistant"
    with connect(f"{url}?api_key={stack.api_keys['alice']}") as conn:
        conn.send(json.dumps(command))
        try:
            while True:
                conn.recv(timeout=30)
        except ConnectionClosed:
            return conn.close_code, conn.close_reason


@pytest.mark.parametrize(
    "fields",
    [{"voice": {"name": "joe"}}, {"system_prompt": ["a", "b"]}, {"language": 1e308}],
    ids=["voice-object", "prompt-list", "language-number"],
)
def test_start_session_fields_that_are_not_strings_close_4422(
    stack: Stack, fields: dict[str, Any]
) -> None:
    code = _ws_start(stack, {"type": "start_session", **fields})
    assert code == (4422, "invalid_params")


@pytest.mark.parametrize(
    "first",
    ["[" * 50_000 + "]" * 50_000, b"\x00\x01" * 100, '{"type": "hello"}', "[1, 2]", "NaN"],
    ids=["deep", "binary", "unknown-type", "array", "nan"],
)
def test_a_first_message_other_than_start_session_closes_4400(
    stack: Stack, first: str | bytes
) -> None:
    url = stack.base_url.replace("http", "ws") + "/v1/live/assistant"
    with connect(f"{url}?api_key={stack.api_keys['alice']}") as conn:
        conn.send(first)
        with pytest.raises(ConnectionClosed):
            conn.recv(timeout=30)
        assert (conn.close_code, conn.close_reason) == (4400, "start_session_expected")


def test_a_text_command_that_is_not_a_string_is_an_error_and_the_session_goes_on(
    stack: Stack,
) -> None:
    url = stack.base_url.replace("http", "ws") + "/v1/live/assistant"
    with connect(f"{url}?api_key={stack.api_keys['alice']}") as conn:
        conn.send(json.dumps({"type": "start_session"}))
        assert json.loads(conn.recv(timeout=30))["type"] == "session_started"
        for text in ({"a": 1}, 1e308, None):
            conn.send(json.dumps({"type": "text", "text": text}))
            error = _next_but_ready(conn)
            assert (error["type"], error["code"]) == ("error", "invalid_message"), error
            assert "text" in error["message"]
        conn.send(json.dumps({"type": "ping"}))
        assert _next_but_ready(conn) == {"type": "pong"}


def _next_but_ready(conn: ClientConnection) -> Any:
    """The session's next message but ``ready`` (sent whenever a worker takes the session)."""
    while True:
        message = json.loads(conn.recv(timeout=30))
        if message["type"] != "ready":
            return message


def _silence_wav() -> bytes:
    """One second of 16 kHz mono silence: a file every check of the upload accepts."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16_000)
        wav.writeframes(b"\x00\x00" * 16_000)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"temperature": "NaN"}, "temperature"),
        ({"temperature": HUGE_NUMBER}, "temperature"),
        ({"temperature": "1.5"}, "temperature"),
        ({"response_format": "mp3"}, "response_format"),
        ({"timestamp_granularities[]": ["word", "sentence"]}, "timestamp_granularities[]"),
        ({"model": ""}, "model"),
        ({"language": "x" * 5_000}, "language"),
    ],
    ids=["nan", "huge", "over-1", "format", "granularity", "empty-model", "language"],
)
def test_bad_transcription_fields_are_422_and_leave_no_file(
    stack: Stack, alice: httpx.Client, fields: dict[str, Any], named: str
) -> None:
    response = alice.post(
        "/v1/audio/transcriptions",
        data=fields,
        files={"file": ("a.wav", _silence_wav(), "audio/wav")},
    )
    assert named in assert_error(response, 422, "invalid_params")["message"]
    assert orphan_job_dirs(stack) == []
