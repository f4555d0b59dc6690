"""Which voice speaks a language: the map, regions, the default, and offline fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from visiovox.config import Settings, load_settings
from visiovox.pipelines.voice_choice import (
    answer_in,
    choose_voice,
    normalise_language,
    voice_for_language,
)

ENGINE = "tts.piper"


def _settings(tmp_path: Path, *, offline: bool) -> Settings:
    return load_settings(
        models={"cache_dir": tmp_path / "models", "offline": offline},
        tts={"language_voices": {"pt": "faber", "pt_PT": "lessac", "ru": "irina", "en": "joe"}},
    )


@pytest.mark.parametrize(
    ("code", "voice"),
    [("pt", "faber"), ("pt-br", "faber"), ("PT_pt", "lessac"), ("ru", "irina"), ("de", None)],
)
def test_a_language_maps_to_its_voice_region_first(
    tmp_path: Path, code: str, voice: str | None
) -> None:
    assert voice_for_language(_settings(tmp_path, offline=False), code) == voice


def test_normalised_codes() -> None:
    assert [normalise_language(c) for c in ("pt-br", "ZH", "ru_ru")] == ["pt_BR", "zh", "ru_RU"]


def test_a_fixed_voice_wins_over_the_language(tmp_path: Path) -> None:
    settings = _settings(tmp_path, offline=True)
    assert choose_voice(settings, engine=ENGINE, voice="lessac", language="ru").voice == "lessac"


def test_online_the_language_voice_speaks_even_before_it_is_pulled(tmp_path: Path) -> None:
    choice = choose_voice(
        _settings(tmp_path, offline=False), engine=ENGINE, voice=None, language="ru"
    )
    assert choice.voice == "irina" and choice.fallback is None


def test_offline_and_not_pulled_the_default_voice_speaks_with_the_reason(tmp_path: Path) -> None:
    choice = choose_voice(
        _settings(tmp_path, offline=True), engine=ENGINE, voice=None, language="ru"
    )
    assert choice.voice == "joe"
    assert choice.fallback == (
        "voice irina (piper-irina-medium) is not in the model cache and downloads are off; "
        "speaking in joe"
    )


def test_a_language_without_a_voice_speaks_in_the_default(tmp_path: Path) -> None:
    choice = choose_voice(
        _settings(tmp_path, offline=True), engine=ENGINE, voice=None, language="de"
    )
    assert choice.voice == "joe" and choice.fallback is None


def test_the_upstream_model_is_asked_for_the_language() -> None:
    assert answer_in("pt") == "The user speaks Portuguese. Answer in Portuguese."
    assert answer_in("sw") == "The user speaks sw. Answer in sw."
