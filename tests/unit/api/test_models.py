"""``GET /v1/models``: the manifest in OpenAI's list shape, with install state."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.unit.api.conftest import SettingsFactory
from visiovox.api.app import create_app
from visiovox.models.cache import ensure_model
from visiovox.models.manifest import get_manifest


def test_models_in_openai_list_shape(make_settings: SettingsFactory, tmp_path: Path) -> None:
    settings = make_settings(models={"cache_dir": tmp_path / "models"})
    ensure_model(get_manifest(settings).get("silero-vad"), tmp_path / "models")
    with TestClient(create_app(settings)) as client:
        body = client.get("/v1/models").json()
    assert body["object"] == "list"
    models = {m["id"]: m for m in body["data"]}
    assert {"piper-joe-medium", "whisper-base", "whisper-small", "inswapper-128"} <= set(models)
    vad = models["silero-vad"]
    assert vad["object"] == "model" and isinstance(vad["created"], int)
    assert vad["owned_by"] == "visiovox"
    assert (vad["task"], vad["engine"], vad["license"]) == ("vad", "vad.silero", "MIT")
    assert vad["installed"] is True and vad["size"] == 1245151
    assert vad["sources"] == ["package:faster-whisper"]
    swap = models["inswapper-128"]
    assert swap["installed"] is False and swap["non_commercial"] is True
    assert swap["owned_by"] == "ezioruan" and swap["sources"][0].startswith("hf:ezioruan/")


def test_models_need_a_key_when_auth_is_on(make_settings: SettingsFactory) -> None:
    with TestClient(create_app(make_settings(auth={"enabled": "on"}))) as client:
        response = client.get("/v1/models")
    assert response.status_code == 401
