"""Voice assistant sessions against a real stack: a spoken question, a spoken answer."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import unquote

import httpx

from tests.integration.stack import Stack, wait_for_job, wait_until
from tests.wer import SPOKEN_QUESTION
from visiovox.media.audio import decode_audio

QUESTION = SPOKEN_QUESTION
SYSTEM = "You are a helpful assistant. Answer in one short sentence."


def _spoken(client: httpx.Client, text: str) -> bytes:
    response = client.post(
        "/v1/audio/speech",
        json={"model": "tts-1", "voice": "joe", "input": text, "response_format": "wav"},
    )
    assert response.status_code == 200, response.text
    return response.content


def test_spoken_question_gets_a_spoken_answer(stack: Stack, tmp_path: Path) -> None:
    with stack.client("alice") as client:
        client.timeout = httpx.Timeout(60)
        created = client.post(
            "/v1/assistant/sessions", json={"system_prompt": SYSTEM, "language": "en"}
        )
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]
        assert created.json()["language"] == "en"
        question = _spoken(client, QUESTION)
        started = time.perf_counter()
        turn = client.post(
            f"/v1/assistant/sessions/{session_id}/turns",
            params={"wait": "true"},
            files={"audio": ("question.wav", question, "audio/wav")},
        )
        elapsed = time.perf_counter() - started
        assert turn.status_code == 200, turn.text
        assert turn.headers["content-type"] == "audio/wav"
        heard = unquote(turn.headers["x-transcription"])
        reply = unquote(turn.headers["x-response-text"])
        assert "capital city of france" in heard.lower()
        assert "Paris" in reply, reply
        assert turn.headers["x-session-id"] == session_id
        assert 0 < float(turn.headers["x-processing-time"]) <= elapsed
        path = tmp_path / "reply.wav"
        path.write_bytes(turn.content)
        assert len(decode_audio(path)) / 16_000 > 0.5
        # The spoken reply itself says Paris.
        spoken = client.post(
            "/v1/audio/transcriptions",
            files={"file": ("reply.wav", turn.content, "audio/wav")},
            data={"model": "whisper-1", "language": "en"},
        )
        assert "paris" in spoken.json()["text"].lower(), spoken.text

        history = client.get(f"/v1/assistant/sessions/{session_id}").json()["messages"]
        assert history == [
            {"role": "user", "content": heard},
            {"role": "assistant", "content": reply},
        ]


def test_turn_as_a_job_then_history(stack: Stack) -> None:
    with stack.client("alice") as client:
        session_id = client.post("/v1/assistant/sessions").json()["id"]
        url = f"/v1/assistant/sessions/{session_id}/turns"
        accepted = client.post(url, data={"text": "Say hello.", "max_tokens": "12"})
        assert accepted.status_code == 202, accepted.text
        job = wait_for_job(client, accepted.json()["id"])
        assert job["status"] == "succeeded"
        names = [output["name"] for output in job["outputs"]]
        assert {"reply.wav", "sentence-001.wav", "turn.json"} <= set(names)
        turn = client.get(f"/v1/jobs/{job['id']}/files/turn.json").json()
        assert turn["transcription"] == "Say hello." and turn["timings"]["total"] > 0
        messages = wait_until(
            lambda: client.get(f"/v1/assistant/sessions/{session_id}").json()["messages"],
            timeout_s=10,
            what="the turn in the history",
        )
        assert messages[0] == {"role": "user", "content": "Say hello."}


def test_sessions_are_private_and_deletable(stack: Stack) -> None:
    with stack.client("alice") as alice, stack.client("bob") as bob:
        session_id = alice.post("/v1/assistant/sessions").json()["id"]
        url = f"/v1/assistant/sessions/{session_id}"
        assert bob.get(url).status_code == 404
        assert bob.delete(url).status_code == 404
        assert alice.get(url).json()["messages"] == []
        listed = [s["id"] for s in alice.get("/v1/assistant/sessions").json()["data"]]
        assert listed[0] == session_id
        assert session_id not in [s["id"] for s in bob.get("/v1/assistant/sessions").json()["data"]]
        assert alice.delete(url).status_code == 204
        assert alice.get(url).json()["error"]["code"] == "session_not_found"
        listed = [s["id"] for s in alice.get("/v1/assistant/sessions").json()["data"]]
        assert session_id not in listed
