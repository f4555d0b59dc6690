"""Voices by language on a real stack: the worker picks the voice of the language heard or given.

The voices are test-made (joe's files under other names and languages, see
``tests/language_voices.py``), fetched on first use from the loopback mirror by
the worker process; the questions are espeak-ng's Russian, Brazilian Portuguese
and Mandarin, spoken as Whisper base recognises them (docs/benchmarks.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.stack import Stack, wait_for_job
from tests.integration.test_events_stream import read_sse
from tests.language_voices import LANGUAGE_VOICES, espeak, mirror_files, write_manifest
from tests.unit.models.loopback import Mirror, serve
from visiovox.config import load_settings
from visiovox.models.cache import prepare_model

ONNX = "en_US-joe-medium.onnx"


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    joe = prepare_model(load_settings(models={"cache_dir": tmp_path / "joe"}), "piper-joe-medium")
    with serve(Mirror(files=mirror_files(joe))) as served:
        yield served


def _languages_stack(
    make_stack: Callable[..., Stack], tmp_path: Path, mirror: Mirror, *, offline: bool
) -> Stack:
    settings = {
        "VISIOVOX_MODELS__MANIFEST": str(write_manifest(tmp_path, mirror.url)),
        "VISIOVOX_TTS__LANGUAGE_VOICES": json.dumps(LANGUAGE_VOICES),
        "VISIOVOX_MODELS__OFFLINE": "1" if offline else "0",
    }
    return make_stack(settings=settings)


def test_the_worker_speaks_each_language_in_its_voice_fetched_on_first_use(
    make_stack: Callable[..., Stack], tmp_path: Path, mirror: Mirror
) -> None:
    stack = _languages_stack(make_stack, tmp_path, mirror, offline=False)
    with stack.client() as client:
        for language, voice in (("ru_RU", "govorun"), ("pt_BR", "falante"), ("zh_CN", "shuohua")):
            question = espeak(language, tmp_path / f"{language}.wav").read_bytes()
            heard = client.post(
                "/v1/jobs/assistant",
                files={"audio": (f"{language}.wav", question, "audio/wav")},
                data={"max_tokens": "8"},
            )
            assert heard.status_code == 202, heard.text
            job = wait_for_job(client, heard.json()["id"], timeout_s=120)
            assert job["status"] == "succeeded", job
            assert (job["result"]["language"], job["result"]["voice"]) == (language[:2], voice)
            assert len(mirror.gets_of(f"/files/{voice}/{ONNX}")) == 1
        typed = {"text": "Say hello.", "language": "zh", "max_tokens": "8"}
        accepted = client.post("/v1/jobs/assistant", data=typed)
        assert accepted.status_code == 202, accepted.text
        job = wait_for_job(client, accepted.json()["id"], timeout_s=120)
        assert job["status"] == "succeeded" and job["result"]["voice"] == "shuohua", job
        spoken = client.post("/v1/jobs/tts", data={"text": "Olá.", "language": "pt_BR"})
        assert spoken.status_code == 202, spoken.text
        job = wait_for_job(client, spoken.json()["id"], timeout_s=60)
        assert job["status"] == "succeeded" and job["result"]["voice"] == "falante"
        assert len(mirror.gets_of(f"/files/falante/{ONNX}")) == 1  # loaded once, kept
        refused = client.post("/v1/jobs/tts", data={"text": "Olá.", "language": "portuguese"})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "invalid_params"


def test_offline_the_worker_falls_back_to_the_default_voice_with_a_log_event(
    make_stack: Callable[..., Stack], tmp_path: Path, mirror: Mirror
) -> None:
    stack = _languages_stack(make_stack, tmp_path, mirror, offline=True)
    question = espeak("ru_RU", tmp_path / "ru.wav").read_bytes()
    with stack.client() as client:
        heard = client.post(
            "/v1/jobs/assistant",
            files={"audio": ("ru.wav", question, "audio/wav")},
            data={"max_tokens": "8"},
        )
        assert heard.status_code == 202, heard.text
        job = wait_for_job(client, heard.json()["id"], timeout_s=120)
        assert job["status"] == "succeeded", job
        assert (job["result"]["language"], job["result"]["voice"]) == ("ru", "joe")
        events = read_sse(client, job["id"])
        logs = [e["data"].get("message") for e in events if e["type"] == "log"]
        assert (
            "voice govorun (piper-govorun-medium) is not in the model cache and downloads are "
            "off; speaking in joe"
        ) in logs
    assert mirror.gets == []
