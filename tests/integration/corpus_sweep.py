"""Sending the bad-input corpus (``tests/corpus.py``) to every endpoint that takes it.

``sweep`` checks each answer as it comes (no 5xx; a 4xx carries a code and a
message; text without anything to say is never accepted) and returns the jobs
that were accepted, for the caller to follow to their end. Shared by the
sweep test and ``bench.corpus_sweep``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests import corpus
from tests.integration.stack import TERMINAL, wait_until

# The worker's own failures: a bad input must never end a job with one of these.
WORKER_FAILURES = {"internal_error", "worker_lost"}
SPEECH = "Hello there. How are you today?"


def speech_wav(client: httpx.Client) -> bytes:
    """A short spoken WAV from the deployment's own TTS, the valid partner of face inputs."""
    answer = client.post(
        "/v1/audio/speech",
        json={"model": "tts-1", "voice": "joe", "input": SPEECH, "response_format": "wav"},
    )
    assert answer.status_code == 200, answer.text
    return answer.content


def check_answer(response: httpx.Response, case: str) -> str | None:
    """The job id of an accepted submission; asserts a refusal is a 4xx with code and message."""
    assert response.status_code < 500, f"{case}: {response.status_code} {response.text[:300]}"
    if response.status_code in (200, 201, 202):
        if response.status_code == 202:
            return str(response.json()["id"])
        return response.headers.get("x-job-id")
    error = response.json()["error"]
    assert error["code"] and error["message"], f"{case}: {response.text[:300]}"
    return None


def all_jobs(client: httpx.Client) -> list[dict[str, Any]]:
    """Every job of the caller, following the cursor."""
    jobs: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/jobs", params=params).json()
        jobs += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            return jobs


def wait_all_finished(client: httpx.Client, *, timeout_s: float = 300) -> list[dict[str, Any]]:
    """Wait until every job of the caller is terminal; returns them all."""

    def finished() -> list[dict[str, Any]] | None:
        jobs = all_jobs(client)
        return jobs if all(job["status"] in TERMINAL for job in jobs) else None

    return list(wait_until(finished, timeout_s=timeout_s, what="every accepted job to finish"))


def _file_targets(face: bytes, speech: bytes) -> list[tuple[str, str, dict[str, Any], str]]:
    """(path, file field, other fields, corpus kind) for every upload that takes media."""
    image = ("face.jpg", face, "image/jpeg")
    audio = ("speech.wav", speech, "audio/wav")
    return [
        ("/v1/jobs/stt", "file", {}, "audio"),
        ("/v1/audio/transcriptions", "file", {"data": {"model": "whisper-1"}}, "audio"),
        ("/v1/jobs/assistant", "audio", {}, "audio"),
        ("/v1/jobs/lip-sync", "audio", {"files": {"face": image}}, "audio"),
        ("/v1/jobs/talking-avatar", "audio", {}, "audio"),
        ("/v1/jobs/visemes", "audio", {}, "audio"),
        ("/v1/jobs/face-swap", "source", {"files": {"target": image}}, "image"),
        ("/v1/jobs/face-swap", "target", {"files": {"source": image}}, "visual"),
        (
            "/v1/jobs/face-swap",
            "reference",
            {"files": {"source": image, "target": image}, "data": {"mode": "reference"}},
            "image",
        ),
        ("/v1/jobs/lip-sync", "face", {"files": {"audio": audio}}, "visual"),
        ("/v1/jobs/talking-avatar", "image", {"data": {"text": "Hi."}}, "image"),
        # The speech partner lasts under voice-convert's 3 s reference minimum, so
        # bad audio meets reference_too_short once its own checks pass.
        ("/v1/jobs/voice-convert", "audio", {"files": {"reference": audio}}, "audio"),
        ("/v1/jobs/voice-convert", "reference", {"files": {"audio": audio}}, "audio"),
    ]


def _send_files(client: httpx.Client, folder: Path, speech: bytes) -> dict[str, str]:
    face = (corpus.FIXTURES / "grace_hopper.jpg").read_bytes()
    videos = corpus.bad_videos(folder)
    kinds = {
        "audio": {**corpus.bad_audio(folder), **videos},
        "image": corpus.bad_images(),
        "visual": {**corpus.bad_images(), **videos},
    }
    session = client.post("/v1/assistant/sessions", json={}).json()["id"]
    targets = _file_targets(face, speech)
    targets.append((f"/v1/assistant/sessions/{session}/turns", "audio", {}, "audio"))
    accepted: dict[str, str] = {}
    for path, field, others, kind in targets:
        for name, payload in kinds[kind].items():
            case = f"{path} {field}={name}"
            files = {**others.get("files", {}), field: (f"{name}.bin", payload)}
            job_id = check_answer(client.post(path, files=files, data=others.get("data", {})), case)
            if job_id:
                accepted[job_id] = case
    return accepted


def _send_texts(client: httpx.Client) -> None:
    for name, text in corpus.unspeakable_texts().items():
        for path, body in (
            ("/v1/jobs/tts", {"data": {"text": text}}),
            ("/v1/jobs/talking-avatar", {"data": {"text": text}}),
            ("/v1/jobs/visemes", {"data": {"text": text}}),
            ("/v1/audio/speech", {"json": {"model": "tts-1", "voice": "joe", "input": text}}),
        ):
            job_id = check_answer(client.post(path, **body), f"{path} text={name}")
            assert job_id is None, f"{path} accepted the text {name!r}"
    for name, body in {
        "messages-not-json": {"data": {"messages": "[{"}},
        "messages-not-a-list": {"json": {"messages": {"role": "user"}}},
        "unknown-role": {"json": {"messages": [{"role": "root", "content": "hi"}]}},
        "content-over-32000": {"json": {"messages": [{"role": "user", "content": "a" * 32_001}]}},
    }.items():
        assert check_answer(client.post("/v1/jobs/chat", **body), f"chat {name}") is None
    for name, raw in {
        "not-json": b"{",
        "a-list": b"[]",
        "no-messages": json.dumps({"model": "x"}).encode(),
        "max-tokens-negative": json.dumps(
            {"model": "x", "messages": [{"role": "user", "content": "hi"}], "max_tokens": -1}
        ).encode(),
    }.items():
        response = client.post(
            "/v1/chat/completions", content=raw, headers={"content-type": "application/json"}
        )
        assert check_answer(response, f"chat/completions {name}") is None


def sweep(client: httpx.Client, *, folder: Path, speech: bytes) -> dict[str, str]:
    """Send the whole corpus; returns the accepted jobs (id → the case that made it)."""
    accepted = _send_files(client, folder, speech)
    _send_texts(client)
    return accepted
