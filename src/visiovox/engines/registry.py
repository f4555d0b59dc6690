"""Engine names to the classes that implement them, imported only when first needed."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from visiovox.config import Settings
from visiovox.engines.base import Engine

ENGINES: dict[str, str] = {
    "tts.piper": "visiovox.engines.tts.piper:PiperTTS",
    "stt.whisper": "visiovox.engines.stt.whisper:WhisperSTT",
    "face.detect": "visiovox.engines.face.detect:FaceDetector",
    "face.detect_scrfd": "visiovox.engines.face.detect_scrfd:ScrfdDetector",
    "face.detect_blazeface": "visiovox.engines.face.detect_blazeface:BlazeFaceDetector",
    "face.landmarks": "visiovox.engines.face.landmarks:FaceLandmarker",
    "face.embed": "visiovox.engines.face.embed:FaceEmbedder",
    "face.swap_warp": "visiovox.engines.face.swap_warp:WarpSwapper",
    "face.swap_inswapper": "visiovox.engines.face.swap_inswapper:InSwapper",
    "face.enhance_gfpgan": "visiovox.engines.face.enhance_gfpgan:GfpganEnhancer",
    "face.enhance_codeformer": "visiovox.engines.face.enhance_codeformer:CodeFormerEnhancer",
    "llm.llama_cpp": "visiovox.engines.llm.llama_cpp:LlamaCppLLM",
    "lipsync.mouth_warp": "visiovox.engines.lipsync.mouth_warp:MouthWarp",
    "lipsync.wav2lip": "visiovox.engines.lipsync.wav2lip:Wav2Lip",
    "llm.openai_http": "visiovox.engines.llm.openai_http:OpenAIHttpLLM",
    "vad.silero": "visiovox.engines.vad.silero:SileroVAD",
    "voice.convert_psola": "visiovox.engines.voice.convert_psola:PsolaConverter",
    "voice.rvc": "visiovox.engines.voice.rvc:RvcConverter",
    "visemes.headaudio": "visiovox.engines.visemes.classifier:HeadAudioVisemes",
}

# Roles a pipeline may ask for instead of an engine name; the settings choose the engine.
ROLES: dict[str, Callable[[Settings], str]] = {
    "llm": lambda settings: settings.llm.engine,
}


class UnknownEngine(KeyError):
    """No engine is registered under that name."""


def engine_class(name: str) -> type[Engine]:
    """Import and return the class registered as ``name``."""
    try:
        module_name, _, class_name = ENGINES[name].partition(":")
    except KeyError as exc:
        raise UnknownEngine(name) from exc
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Engine)):
        raise TypeError(f"{ENGINES[name]} is not an Engine")
    return cls


def resolve_engine(name: str, settings: Settings) -> str:
    """The engine that serves ``name``: itself, or the configured engine of a role (``llm``)."""
    role = ROLES.get(name)
    return role(settings) if role is not None else name
