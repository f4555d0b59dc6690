"""The live assistant speaks in the voice of the language it heard, or falls back offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.language_voices import LANGUAGE_VOICES, espeak, mirror_files, write_manifest
from tests.unit.models.loopback import Mirror, serve
from visiovox.config import load_settings
from visiovox.engines.pool import EnginePool
from visiovox.jobs.model import EventType
from visiovox.models.cache import prepare_model
from visiovox.pipelines.assistant_live.spec import SPEC
from visiovox.pipelines.testing import LocalContext, run_pipeline

ONNX = "/files/govorun/en_US-joe-medium.onnx"
FALLBACK = (
    "voice govorun (piper-govorun-medium) is not in the model cache and downloads are off; "
    "speaking in joe"
)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mirror]:
    joe = prepare_model(
        load_settings(models={"cache_dir": tmp_path_factory.mktemp("joe")}), "piper-joe-medium"
    )
    with serve(Mirror(files=mirror_files(joe))) as served:
        yield served


def _session(tmp_path: Path, mirror: Mirror, *, offline: bool) -> LocalContext:
    """A session that hears espeak-ng's Russian as one WAV, then ends after the reply."""
    settings = load_settings(
        models={
            "cache_dir": tmp_path / "models",
            "manifest": write_manifest(tmp_path, mirror.url),
            "offline": offline,
        },
        tts={"language_voices": LANGUAGE_VOICES},
    )
    pool = EnginePool(settings=settings, device="cpu")
    ctx = LocalContext(root=tmp_path / "job", pool=pool)

    def on_send(item: dict[str, Any] | bytes) -> None:
        if isinstance(item, dict) and item["type"] in ("complete", "error"):
            ctx.link.put_command({"type": "end_session"})

    ctx.link.on_send = on_send
    ctx.link.put_audio(espeak("ru_RU", tmp_path / "ru.wav").read_bytes())
    try:
        run_pipeline(SPEC, {"session_id": "s1", "max_tokens": 8}, ctx)
    finally:
        pool.close()
    return ctx


def test_the_language_heard_picks_its_voice_fetched_on_first_use(
    tmp_path: Path, mirror: Mirror
) -> None:
    before = len(mirror.gets_of(ONNX))
    ctx = _session(tmp_path, mirror, offline=False)
    assert "complete" in [m["type"] for m in ctx.link.messages()]
    assert len(mirror.gets_of(ONNX)) == before + 1


def test_offline_and_not_pulled_it_speaks_in_the_default_voice_with_a_log_event(
    tmp_path: Path, mirror: Mirror
) -> None:
    before = len(mirror.gets)
    ctx = _session(tmp_path, mirror, offline=True)
    assert "complete" in [m["type"] for m in ctx.link.messages()]
    logs = [e["message"] for e in ctx.of_type(EventType.LOG) if "message" in e]
    assert logs.count(FALLBACK) == 1
    assert len(mirror.gets) == before
