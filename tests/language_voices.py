"""Test-made voices in other languages: Piper joe's files under other names, on the loopback mirror.

The real pt_BR, ru_RU and zh_CN voices are hub-only, so tests stand them in
with joe's bytes under each test voice's own name and language; selection and
first-use download are what they exercise, not how the voice sounds.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.tools import missing_tool

MANIFEST = Path(__file__).parents[1] / "configs" / "models.yaml"
# Test voice -> its language.
VOICES = {"falante": "pt_BR", "govorun": "ru_RU", "shuohua": "zh_CN"}
# The espeak-ng voice and settings that speak each language. At espeak-ng's defaults
# Whisper base hears its Brazilian Portuguese as Latin or Spanish, its Mandarin as
# Thai, and its Russian as Russian by a hair (0.26 to Mongolian's 0.23); slowed down
# (-s 100) and, for Mandarin, in the higher variant +f3, each is heard as itself with
# a clear lead (bench/languages.py, docs/benchmarks.md).
ESPEAK = {
    "en_US": ["-v", "en-us"],
    "pt_BR": ["-v", "pt-br", "-s", "100", "-p", "35"],
    "ru_RU": ["-v", "ru", "-s", "100"],
    "zh_CN": ["-v", "cmn-latn-pinyin+f3"],
}
# What each says; Chinese in tone-numbered pinyin, since Debian's espeak-ng has no
# dictionary from characters to pinyin (it reads them as English digits).
SAID = {
    "en_US": "Good morning. What is the capital city of France? I would like to know the "
    "answer, please.",
    "pt_BR": "Bom dia! Hoje o tempo está muito bonito aqui em São Paulo. Vamos passear no "
    "parque e depois almoçar com a minha família. Você gostaria de vir com a gente? Então a "
    "gente se vê mais tarde, tá bom?",
    "ru_RU": "Добрый день. Какая столица России? Я хотел бы узнать ответ, пожалуйста.",
    "zh_CN": "jin1 tian1 tian1 qi4 hen3 hao3. wo3 men5 yi4 qi3 qu4 gong1 yuan2 san4 bu4 ba5. "
    "zhe4 ge5 wen4 ti2 hen3 you3 yi4 si5. qing3 wen4, huo3 che1 zhan4 zai4 na3 li3? xie4 "
    "xie5 ni3 de5 bang1 zhu4.",
}
LANGUAGE_VOICES = {language.partition("_")[0]: voice for voice, language in VOICES.items()}


def joe_entry() -> dict[str, Any]:
    """The bundled joe voice's manifest entry."""
    models = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["models"]
    return dict(next(entry for entry in models if entry["id"] == "piper-joe-medium"))


def mirrored_voice(voice: str, language: str, base_url: str) -> dict[str, Any]:
    """joe's entry as the voice ``voice`` of ``language``, its one source the mirror."""
    entry = copy.deepcopy(joe_entry())
    entry.update(id=f"piper-{voice}-medium", voice=voice, language=language)
    entry["description"] = f"test voice {voice} ({language}): joe's files"
    names = [item["path"] for item in entry["files"]]
    entry["sources"] = [
        {"type": "url", "files": {n: f"{base_url}/files/{voice}/{n}" for n in names}}
    ]
    return entry


def mirror_files(joe_folder: Path) -> dict[str, bytes]:
    """What the mirror serves: joe's files under every test voice's path."""
    joe = joe_entry()
    return {
        f"/files/{voice}/{item['path']}": (joe_folder / item["path"]).read_bytes()
        for voice in VOICES
        for item in joe["files"]
    }


def write_manifest(folder: Path, base_url: str) -> Path:
    """joe plus the test voices, in a manifest file under ``folder``."""
    entries = [joe_entry()] + [
        mirrored_voice(voice, language, base_url) for voice, language in VOICES.items()
    ]
    whisper = [
        e
        for e in yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["models"]
        if e["engine"] != "tts.piper"
    ]
    path = folder / "models.yaml"
    path.write_text(yaml.safe_dump({"models": entries + whisper}), encoding="utf-8")
    return path


def espeak(language: str, path: Path, settings: list[str] | None = None) -> Path:
    """``SAID[language]`` spoken by espeak-ng into the WAV ``path``.

    ``settings`` replaces the language's ``ESPEAK`` voice and settings.
    """
    if shutil.which("espeak-ng") is None:
        missing_tool("espeak-ng is not installed (apt-get install espeak-ng)")
    voice = ESPEAK[language] if settings is None else settings
    subprocess.run(["espeak-ng", *voice, "-w", str(path), SAID[language]], check=True)
    return path
