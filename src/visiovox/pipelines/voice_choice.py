"""Which voice speaks a language: ``tts.language_voices``, else the default voice.

A request that names a voice keeps it. One that names only a language (tts's
``language``; the language Whisper heard in an assistant turn) gets the voice
``tts.language_voices`` maps it to, matched with its region first (``pt_BR``),
then by the bare code (``pt``). The assistant must answer even when that voice
cannot be had: offline (``models.offline``) with the voice not pulled into the
cache, ``speakable`` says why, and the turn speaks in ``tts.voice`` instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from visiovox.config import Settings
from visiovox.models.cache import is_installed
from visiovox.models.manifest import get_manifest

# Language codes as Whisper or Piper write them: ``pt``, ``pt_BR``, ``pt-br``.
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}([_-][A-Za-z]{2})?$"
_SPLIT = re.compile(r"[_-]")

# English names for the system prompt asking an upstream model to answer in kind.
LANGUAGE_NAMES = {
    "en": "English",
    "pt": "Portuguese",
    "ru": "Russian",
    "zh": "Chinese",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
}


@dataclass(frozen=True)
class VoiceChoice:
    """The voice to speak in, and why it is the default voice when another was wanted."""

    voice: str
    fallback: str | None = None


def normalise_language(code: str) -> str:
    """``pt-br`` -> ``pt_BR``; ``PT`` -> ``pt``."""
    parts = _SPLIT.split(code.strip())
    return parts[0].lower() if len(parts) == 1 else f"{parts[0].lower()}_{parts[1].upper()}"


def voice_for_language(settings: Settings, language: str) -> str | None:
    """The voice ``tts.language_voices`` gives ``language`` (region first); None if none."""
    mapped = {normalise_language(key): voice for key, voice in settings.tts.language_voices.items()}
    code = normalise_language(language)
    return mapped.get(code) or mapped.get(code.partition("_")[0])


def speakable(settings: Settings, *, engine: str, voice: str) -> str | None:
    """None if ``voice`` can be loaded now; else why not (offline, not in the cache)."""
    model_id = get_manifest(settings).voices(engine).get(voice)
    if model_id is None or not settings.models.offline:
        return None
    entry = get_manifest(settings).get(model_id)
    if not entry.downloadable or is_installed(entry, settings.models.cache_dir):
        return None
    return f"voice {voice} ({model_id}) is not in the model cache and downloads are off"


def choose_voice(
    settings: Settings, *, engine: str, voice: str | None, language: str | None
) -> VoiceChoice:
    """The assistant's voice: ``voice`` if fixed, else the heard language's, else the default.

    A language voice that cannot load offline gives way to ``tts.voice``, with the reason.
    """
    default = settings.tts.voice
    if voice:
        return VoiceChoice(voice)
    wanted = voice_for_language(settings, language) if language else None
    if wanted is None or wanted == default:
        return VoiceChoice(default)
    reason = speakable(settings, engine=engine, voice=wanted)
    if reason is not None:
        return VoiceChoice(default, fallback=f"{reason}; speaking in {default}")
    return VoiceChoice(wanted)


def answer_in(language: str) -> str:
    """The system line asking an upstream model to answer in ``language``."""
    code = normalise_language(language).partition("_")[0]
    name = LANGUAGE_NAMES.get(code, code)
    return f"The user speaks {name}. Answer in {name}."
