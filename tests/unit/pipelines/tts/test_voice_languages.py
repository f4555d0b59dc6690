"""Voices by language in-process: tts's language, the heard language, offline fallback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.language_voices import LANGUAGE_VOICES, espeak, mirror_files, write_manifest
from tests.unit.models.loopback import Mirror, serve
from visiovox.config import Settings, load_settings
from visiovox.engines.pool import EnginePool
from visiovox.engines.stt.base import SAMPLE_RATE, STTEngine
from visiovox.errors import PipelineError
from visiovox.jobs.model import EventType
from visiovox.media.audio import decode_audio
from visiovox.models.cache import prepare_model
from visiovox.pipelines.assistant.spec import SPEC as ASSISTANT
from visiovox.pipelines.testing import LocalContext, run_pipeline
from visiovox.pipelines.tts.spec import SPEC as TTS
from visiovox.pipelines.voice_choice import choose_voice

SENTENCE = "Testing one two three."


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mirror]:
    joe = prepare_model(
        load_settings(models={"cache_dir": tmp_path_factory.mktemp("joe")}), "piper-joe-medium"
    )
    with serve(Mirror(files=mirror_files(joe))) as served:
        yield served


def _settings(folder: Path, mirror: Mirror, *, offline: bool) -> Settings:
    return load_settings(
        models={
            "cache_dir": folder / "models",
            "manifest": write_manifest(folder, mirror.url),
            "offline": offline,
        },
        tts={"language_voices": LANGUAGE_VOICES},
    )


def test_tts_speaks_a_language_in_its_voice_fetched_on_first_use(
    tmp_path: Path, mirror: Mirror
) -> None:
    settings = _settings(tmp_path, mirror, offline=False)
    pool = EnginePool(settings=settings, device="cpu")
    try:
        ctx = LocalContext(root=tmp_path / "job", pool=pool)
        result = run_pipeline(TTS, {"text": SENTENCE, "language": "pt-BR"}, ctx)
        assert result is not None and result["voice"] == "falante"
        assert len(mirror.gets_of("/files/falante/en_US-joe-medium.onnx")) == 1
        # Pulled once, the voice speaks offline too, and the assistant would pick it.
        offline = _settings(tmp_path, mirror, offline=True)
        choice = choose_voice(offline, engine="tts.piper", voice=None, language="pt")
        assert choice.voice == "falante" and choice.fallback is None
        with pytest.raises(PipelineError) as caught:
            run_pipeline(TTS, {"text": SENTENCE, "language": "de"}, ctx)
        assert caught.value.code == "unsupported_language"
    finally:
        pool.close()


def test_offline_the_assistant_falls_back_to_the_default_voice_with_a_log_event(
    tmp_path: Path, mirror: Mirror
) -> None:
    settings = _settings(tmp_path, mirror, offline=True)
    pool = EnginePool(settings=settings, device="cpu")
    try:
        spoken = espeak("ru_RU", tmp_path / "ru.wav")
        ctx = LocalContext.with_files(root=tmp_path / "job", pool=pool, files={"audio": spoken})
        result = run_pipeline(ASSISTANT, {"max_tokens": 8}, ctx)
        assert result is not None
        assert (result["language"], result["voice"]) == ("ru", "joe")
        logs = [e["message"] for e in ctx.of_type(EventType.LOG) if "message" in e]
        assert (
            "voice govorun (piper-govorun-medium) is not in the model cache and downloads are "
            "off; speaking in joe"
        ) in logs
        assert "reply.wav" in ctx.output_names()
    finally:
        pool.close()


@pytest.mark.parametrize("language", ["pt_BR", "ru_RU", "zh_CN"])
def test_whisper_base_detects_espeak_speech_in(
    tmp_path: Path, engine_pool: EnginePool, language: str
) -> None:
    spoken = espeak(language, tmp_path / "said.wav")
    stt = engine_pool.get("stt.whisper", STTEngine)  # type: ignore[type-abstract]
    try:
        heard = stt.transcribe(decode_audio(spoken, sample_rate=SAMPLE_RATE))
    finally:
        engine_pool.release("stt.whisper")
    assert heard.language == language.partition("_")[0]
