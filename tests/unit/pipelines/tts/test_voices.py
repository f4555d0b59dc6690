"""Piper voices of the manifest by name: bundled, fetched on first use, offline, unknown."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.models.loopback import Mirror, serve
from visiovox.config import Settings, load_settings
from visiovox.engines.pool import EnginePool
from visiovox.errors import PipelineError
from visiovox.jobs.model import EventType
from visiovox.models.cache import prepare_model
from visiovox.models.errors import ModelUnavailable
from visiovox.pipelines.testing import LocalContext, run_pipeline
from visiovox.pipelines.tts.spec import SPEC

MANIFEST = Path(__file__).parents[4] / "configs" / "models.yaml"
SENTENCE = "Testing one two three."


@contextmanager
def _pool(settings: Settings) -> Iterator[EnginePool]:
    pool = EnginePool(settings=settings, device="cpu")
    yield pool
    pool.close()


def test_the_bundled_voice_by_short_name_and_by_id(
    ctx: LocalContext, engine_pool: EnginePool, tmp_path: Path
) -> None:
    result = run_pipeline(SPEC, {"text": SENTENCE, "voice": "piper-joe-medium"}, ctx)
    assert result is not None and result["voice"] == "piper-joe-medium"
    again = LocalContext(root=tmp_path / "again", pool=engine_pool)
    result = run_pipeline(SPEC, {"text": SENTENCE, "voice": "joe"}, again)
    assert result is not None and result["duration_s"] > 0.5


def test_an_openai_voice_name_speaks_in_the_default_voice(ctx: LocalContext) -> None:
    result = run_pipeline(SPEC, {"text": SENTENCE, "voice": "Alloy"}, ctx)
    assert result is not None and result["duration_s"] > 0.5


def test_an_unknown_voice_names_the_voices(ctx: LocalContext) -> None:
    with pytest.raises(PipelineError) as caught:
        run_pipeline(SPEC, {"text": SENTENCE, "voice": "nobody"}, ctx)
    assert caught.value.code == "unknown_voice"
    assert caught.value.message == (
        "no voice 'nobody' (voices: denis, dmitri, faber, huayan, irina, joe, lessac, "
        "piper-denis-medium, piper-dmitri-medium, piper-faber-medium, piper-huayan-medium, "
        "piper-irina-medium, piper-joe-medium, piper-lessac-medium, piper-ruslan-medium, ruslan)"
    )


def test_a_voice_not_installed_offline_names_the_pull_command(tmp_path: Path) -> None:
    settings = load_settings(models={"cache_dir": tmp_path / "models", "offline": True})
    with _pool(settings) as pool:
        ctx = LocalContext(root=tmp_path / "job", pool=pool)
        with pytest.raises(ModelUnavailable) as caught:
            run_pipeline(SPEC, {"text": SENTENCE, "voice": "lessac"}, ctx)
        assert caught.value.code == "model_unavailable"
        assert "model piper-lessac-medium is not available" in caught.value.message
        assert "`visiovox models pull piper-lessac-medium`" in caught.value.message
        # The default voice, bundled in a pip package, still speaks offline.
        fine = LocalContext(root=tmp_path / "fine", pool=pool)
        assert run_pipeline(SPEC, {"text": SENTENCE}, fine) is not None


def _mirrored_voice(joe: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The joe voice again under another name, its only source the loopback mirror."""
    entry = copy.deepcopy(joe)
    entry.update(id="piper-mirror-medium", voice="mirror", description="a mirrored copy")
    names = [item["path"] for item in entry["files"]]
    entry["sources"] = [{"type": "url", "files": {n: f"{base_url}/files/{n}" for n in names}}]
    return entry


def test_another_voice_is_fetched_on_first_use_with_progress(
    tmp_path: Path, model_settings: Settings
) -> None:
    joe = next(
        e for e in yaml.safe_load(MANIFEST.read_text())["models"] if e["id"] == "piper-joe-medium"
    )
    bundled = prepare_model(model_settings, "piper-joe-medium")
    files = {
        f"/files/{item['path']}": (bundled / item["path"]).read_bytes() for item in joe["files"]
    }
    with serve(Mirror(files=files)) as mirror:
        manifest = tmp_path / "models.yaml"
        manifest.write_text(yaml.safe_dump({"models": [joe, _mirrored_voice(joe, mirror.url)]}))
        settings = load_settings(models={"cache_dir": tmp_path / "models", "manifest": manifest})
        with _pool(settings) as pool:
            assert mirror.gets == []  # loading the engine fetched only the default voice
            ctx = LocalContext(root=tmp_path / "job", pool=pool)
            result = run_pipeline(SPEC, {"text": SENTENCE, "voice": "mirror"}, ctx)
            assert result is not None and result["duration_s"] > 0.5
            downloads = [e for e in ctx.of_type(EventType.PROGRESS) if e["stage"] == "download"]
            assert downloads and downloads[-1]["percent"] == 100.0
            logs = [e["message"] for e in ctx.of_type(EventType.LOG) if "message" in e]
            assert any("piper-mirror-medium" in m and "verified" in m for m in logs)
            fetched = len(mirror.gets)
            later = LocalContext(root=tmp_path / "later", pool=pool)
            run_pipeline(SPEC, {"text": SENTENCE, "voice": "piper-mirror-medium"}, later)
            assert len(mirror.gets) == fetched == 2  # loaded once, then kept
