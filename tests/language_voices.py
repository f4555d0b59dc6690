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
# Test voice -> its language, and the espeak-ng voice that speaks that language.
VOICES = {"falante": "pt_BR", "govorun": "ru_RU", "shuohua": "zh_CN"}
ESPEAK = {"en_US": "en-us", "pt_BR": "pt-br", "ru_RU": "ru", "zh_CN": "cmn-latn-pinyin"}
# What each says; Chinese in tone-numbered pinyin, since Debian's espeak-ng has no
# dictionary from characters to pinyin (it reads them as English digits).
SAID = {
    "en_US": "Good morning. What is the capital city of France? I would like to know the "
    "answer, please.",
    "pt_BR": "Olá, tudo bem? Não sei se você pode me ajudar. Eu preciso saber onde fica "
    "a estação de ônibus. Muito obrigado.",
    "ru_RU": "Добрый день. Какая столица России? Я хотел бы узнать ответ, пожалуйста.",
    "zh_CN": "ni3 hao3, wo3 jiao4 li3 ming2. wo3 shi4 zhong1 guo2 ren2. wo3 zhu4 zai4 "
    "bei3 jing1. wo3 xi3 huan1 chi1 mi3 fan4 he2 he1 cha2.",
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


def espeak(language: str, path: Path) -> Path:
    """``SAID[language]`` spoken by espeak-ng into the WAV ``path``."""
    if shutil.which("espeak-ng") is None:
        missing_tool("espeak-ng is not installed (apt-get install espeak-ng)")
    subprocess.run(
        ["espeak-ng", "-v", ESPEAK[language], "-w", str(path), SAID[language]], check=True
    )
    return path
