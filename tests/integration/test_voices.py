"""The voice registry on a real stack: register, validate on a worker, list, get, delete, caps."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import redis

from tests.integration.stack import Stack, wait_for_job
from tests.unit.engines.voice.rvc_graphs import (
    project_manifest_with_stand_ins,
    rmvpe_graph,
    synthesizer_graph,
)
from visiovox.jobs.storage import JobFiles
from visiovox.media.audio import decode_audio


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("voice-graphs")
    bank = io.BytesIO()
    np.save(bank, np.random.default_rng(1).standard_normal((50, 768)).astype(np.float32))
    return {
        "voice": synthesizer_graph(root / "voice.onnx", sample_rate=40_000).read_bytes(),
        "other": rmvpe_graph(root / "rmvpe.onnx").read_bytes(),
        "bank": bank.getvalue(),
    }


def _register(
    client: httpx.Client, model: bytes, *, index: bytes | None = None, **fields: Any
) -> httpx.Response:
    files = {"model": ("voice.onnx", model, "application/octet-stream")}
    if index is not None:
        files["index"] = ("added.npy", index, "application/octet-stream")
    data = {"name": "alto", "sample_rate": "40000", **{k: str(v) for k, v in fields.items()}}
    return client.post("/v1/voices", data=data, files=files)


def _voice_dirs(stack: Stack) -> list[str]:
    root = stack.root / "data" / "voices"
    return sorted(path.name for path in root.iterdir()) if root.is_dir() else []


def test_a_voice_is_registered_validated_listed_and_deleted(
    stack: Stack, graphs: dict[str, bytes]
) -> None:
    with stack.client("alice") as alice, stack.client("bob") as bob:
        answer = _register(alice, graphs["voice"], index=graphs["bank"], f0_median_hz=210)
        assert answer.status_code == 202, answer.text
        voice, job = answer.json()["voice"], answer.json()["job"]
        assert voice["status"] == "validating" and voice["has_index"] is True
        assert answer.headers["location"] == f"/v1/voices/{voice['id']}"
        assert job["pipeline"] == "voice-validate"
        done = wait_for_job(alice, job["id"])
        assert done["status"] == "succeeded", done
        assert done["result"]["index_rows"] == 50
        got = alice.get(f"/v1/voices/{voice['id']}").json()
        assert got["status"] == "ready" and got["f0_median_hz"] == 210.0
        assert got["bytes"] == len(graphs["voice"]) + len(graphs["bank"])
        assert voice["id"] in [item["id"] for item in alice.get("/v1/voices").json()["voices"]]
        folder = stack.root / "data" / "voices" / voice["id"]
        assert sorted(p.name for p in folder.iterdir()) == ["bank.npy", "model.onnx", "voice.json"]
        # Another owner sees nothing of it, and cannot delete it.
        foreign = bob.get(f"/v1/voices/{voice['id']}")
        assert foreign.status_code == 404
        assert foreign.json()["error"]["code"] == "voice_not_found"
        assert bob.delete(f"/v1/voices/{voice['id']}").status_code == 404
        assert voice["id"] not in [v["id"] for v in bob.get("/v1/voices").json()["voices"]]
        assert alice.delete(f"/v1/voices/{voice['id']}").status_code == 204
        assert alice.get(f"/v1/voices/{voice['id']}").status_code == 404
        assert not folder.exists()


@pytest.mark.parametrize("which", ["other", "garbage"])
def test_a_file_that_is_no_rvc_synthesizer_fails_and_nothing_stays(
    stack: Stack, graphs: dict[str, bytes], which: str
) -> None:
    model = graphs["other"] if which == "other" else b"\x08\x07" + bytes(300)
    with stack.client("alice") as alice:
        answer = _register(alice, model)
        assert answer.status_code == 202, answer.text
        voice_id, job_id = answer.json()["voice"]["id"], answer.json()["job"]["id"]
        done = wait_for_job(alice, job_id)
        assert done["status"] == "failed"
        assert done["error"]["code"] == "invalid_voice_model"
        assert alice.get(f"/v1/voices/{voice_id}").status_code == 404
        assert voice_id not in [v["id"] for v in alice.get("/v1/voices").json()["voices"]]
    assert voice_id not in _voice_dirs(stack)


def test_a_declared_rate_the_graph_does_not_speak_fails(
    stack: Stack, graphs: dict[str, bytes]
) -> None:
    with stack.client("alice") as alice:
        answer = _register(alice, graphs["voice"], sample_rate=48_000)
        done = wait_for_job(alice, answer.json()["job"]["id"])
        assert done["error"]["code"] == "invalid_voice_model"
        assert "48000 Hz" in done["error"]["message"]


@pytest.mark.parametrize(
    ("fields", "index", "status", "code"),
    [
        ({"sample_rate": 22050}, None, 422, "invalid_params"),
        ({"name": ""}, None, 422, "invalid_params"),
        ({"f0_median_hz": 5000}, None, 422, "invalid_params"),
        ({}, b"not a numpy array", 415, "unsupported_media_type"),
    ],
)
def test_bad_fields_are_4xx_and_store_nothing(
    stack: Stack,
    graphs: dict[str, bytes],
    fields: dict[str, Any],
    index: bytes | None,
    status: int,
    code: str,
) -> None:
    before = _voice_dirs(stack)
    with stack.client("alice") as alice:
        answer = _register(alice, graphs["voice"], index=index, **fields)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert _voice_dirs(stack) == before


def test_no_model_and_unknown_files_are_refused(stack: Stack, graphs: dict[str, bytes]) -> None:
    with stack.client("alice") as alice:
        bare = alice.post("/v1/voices", data={"name": "x", "sample_rate": "40000"}, files={})
        assert bare.status_code in (415, 422)
        no_model = alice.post(
            "/v1/voices",
            data={"name": "x", "sample_rate": "40000"},
            files={"index": ("b.npy", graphs["bank"], "application/octet-stream")},
        )
        assert no_model.json()["error"]["code"] == "missing_input"
        stray = alice.post(
            "/v1/voices",
            data={"name": "x", "sample_rate": "40000"},
            files={"weights": ("w.pth", b"x", "application/octet-stream")},
        )
        assert stray.status_code == 422 and stray.json()["error"]["code"] == "unknown_input"
        assert alice.get("/v1/voices/not-an-id").status_code == 404


def test_per_owner_caps(make_stack: Callable[..., Stack], graphs: dict[str, bytes]) -> None:
    size = len(graphs["voice"])
    stack = make_stack(
        settings={
            "VISIOVOX_VOICES__MAX_PER_OWNER": "2",
            "VISIOVOX_VOICES__MAX_BYTES": str(int(size * 2.5)),
        }
    )
    with stack.client() as client:
        first = _register(client, graphs["voice"])
        second = _register(client, graphs["voice"])
        assert first.status_code == second.status_code == 202
        third = _register(client, graphs["voice"])
        assert third.status_code == 409 and third.json()["error"]["code"] == "voice_limit"
        assert client.delete(f"/v1/voices/{first.json()['voice']['id']}").status_code == 204
        # One more fits by count, not by bytes: the bank pushes it past 2.5 models.
        big = _register(client, graphs["voice"], index=b"\x93NUMPY" + bytes(size))
        assert big.status_code == 413 and big.json()["error"]["code"] == "voice_storage_full"
        assert len(_voice_dirs(stack)) == 1
        assert _register(client, graphs["voice"]).status_code == 202


def test_a_ready_voice_outlives_its_validation_job(stack: Stack, graphs: dict[str, bytes]) -> None:
    with stack.client("alice") as alice:
        answer = _register(alice, graphs["voice"])
        voice_id, job_id = answer.json()["voice"]["id"], answer.json()["job"]["id"]
        assert wait_for_job(alice, job_id)["status"] == "succeeded"
        assert alice.get(f"/v1/voices/{voice_id}").json()["status"] == "ready"
        # What job retention does to the job: its record and its folder go.
        redis.Redis.from_url(stack.redis.url).delete(f"vv:job:{job_id}")
        JobFiles(stack.root / "data").delete_job(job_id)
        assert alice.get(f"/v1/jobs/{job_id}").status_code == 404
        kept = alice.get(f"/v1/voices/{voice_id}")
        assert kept.status_code == 200 and kept.json()["status"] == "ready"
        assert voice_id in _voice_dirs(stack)
        assert alice.delete(f"/v1/voices/{voice_id}").status_code == 204


def test_a_conversion_with_a_registered_voice(
    make_stack: Callable[..., Stack], graphs: dict[str, bytes], tmp_path: Path
) -> None:
    # The worker's manifest: the project's, plus the stand-ins of ContentVec and RMVPE.
    stack = make_stack(settings=project_manifest_with_stand_ins(tmp_path / "rvc"))
    with stack.client() as client:
        answer = _register(client, graphs["voice"], index=graphs["bank"], f0_median_hz=220)
        voice_id = answer.json()["voice"]["id"]
        early = client.post(
            "/v1/jobs/voice-convert",
            files={"audio": ("a.wav", b"RIFF", "audio/wav")},
            data={"voice": voice_id},
        )
        if early.status_code == 409:  # still validating: refused, not queued
            assert early.json()["error"]["code"] == "voice_not_ready"
        assert wait_for_job(client, answer.json()["job"]["id"])["status"] == "succeeded"
        speech = client.post(
            "/v1/jobs/tts", data={"text": "Good morning to you all.", "format": "wav"}
        )
        tts = wait_for_job(client, speech.json()["id"], timeout_s=120)
        audio = client.get(tts["outputs"][0]["url"]).content
        response = client.post(
            "/v1/jobs/voice-convert",
            files={"audio": ("speech.wav", audio, "audio/wav")},
            data={"voice": voice_id, "format": "wav"},
        )
        assert response.status_code == 202, response.text
        job = wait_for_job(client, response.json()["id"], timeout_s=120)
        assert job["status"] == "succeeded", job
        result = job["result"]
        assert result["engine"] == "voice.rvc" and result["voice"] == voice_id
        assert result["sample_rate"] == 40_000
        source = decode_audio_bytes(audio, tmp_path / "source.wav")
        converted = client.get(job["outputs"][0]["url"]).content
        out = decode_audio_bytes(converted, tmp_path / "converted.wav")
        # The input's duration, within 1 %.
        assert abs(len(out) - len(source)) <= 0.01 * len(source)
        # Automatic shift: the source's median F0 to the voice's 220 Hz, within +-24 st
        # (the stand-in RMVPE's F0 is not speech's, so the clip may apply).
        wanted = float(np.clip(12 * np.log2(220 / result["source_f0_median_hz"]), -24, 24))
        assert result["pitch_shift"] == pytest.approx(wanted, abs=0.01)
        # Another owner's voice id is no voice at all (auth is off here: one owner).
        unknown = client.post(
            "/v1/jobs/voice-convert",
            files={"audio": ("speech.wav", audio, "audio/wav")},
            data={"voice": "0" * 32},
        )
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "voice_not_found"


def decode_audio_bytes(data: bytes, path: Path) -> np.ndarray:
    path.write_bytes(data)
    return decode_audio(path, sample_rate=16_000)
