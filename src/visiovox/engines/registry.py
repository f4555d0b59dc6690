"""Engine names to the classes that implement them, imported only when first needed."""

from __future__ import annotations

import importlib

from visiovox.engines.base import Engine

ENGINES: dict[str, str] = {
    "tts.piper": "visiovox.engines.tts.piper:PiperTTS",
    "stt.whisper": "visiovox.engines.stt.whisper:WhisperSTT",
    "face.detect": "visiovox.engines.face.detect:FaceDetector",
    "face.landmarks": "visiovox.engines.face.landmarks:FaceLandmarker",
    "face.embed": "visiovox.engines.face.embed:FaceEmbedder",
    "face.swap_warp": "visiovox.engines.face.swap_warp:WarpSwapper",
    "face.swap_inswapper": "visiovox.engines.face.swap_inswapper:InSwapper",
    "llm.llama_cpp": "visiovox.engines.llm.llama_cpp:LlamaCppLLM",
    "vad.silero": "visiovox.engines.vad.silero:SileroVAD",
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
