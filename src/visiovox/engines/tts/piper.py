"""Piper TTS (piper-tts 1.8, ONNX Runtime) speaking any Piper voice of the manifest.

A voice is a manifest entry of this engine, named in requests by its id
(``piper-lessac-medium``) or its short ``voice`` name (``lessac``); OpenAI's
voice names (``alloy``, ...) mean the default voice, on every path. The default
voice (``tts.voice``) is loaded with the engine; any other is fetched through
the model cache on first use (download progress on the job, the usual offline
error naming ``visiovox models pull``), then kept while the engine is loaded.
Each sentence is synthesised on its own so the pipeline can report progress and
honour a cancel between sentences.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from visiovox.engines.tts.base import SpeechChunk, TTSEngine
from visiovox.engines.tts.sentences import split_sentences
from visiovox.media.resample import resample
from visiovox.models.cache import prepare_model
from visiovox.models.manifest import get_manifest
from visiovox.pipelines.errors import PipelineError
from visiovox.pipelines.tts import OPENAI_VOICES

if TYPE_CHECKING:
    from piper import PiperVoice

log = logging.getLogger(__name__)

# Speed outside this range makes Piper mumble or drawl past understanding.
MIN_SPEED, MAX_SPEED = 0.25, 4.0


class PiperTTS(TTSEngine):
    """Piper voices by name; ``settings.tts.voice`` is the default, loaded up front."""

    name = "tts.piper"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Manifest id -> loaded voice.
        self._voices: dict[str, PiperVoice] = {}
        self._loading = threading.Lock()
        self.sample_rate = 0

    def required_models(self) -> tuple[str, ...]:
        return (self._model_id(self.settings.tts.voice),)

    def load(self) -> None:
        (default,) = self.required_models()
        voice = self._voices[default] = self._load_voice(prepare_model(self.settings, default))
        # Every voice speaks at the default's rate (others are resampled to it).
        self.sample_rate = voice.config.sample_rate
        # The first inference pays for ONNX Runtime's allocations; do it before a job waits.
        for _chunk in self.synthesize("Ready.", voice=default):
            pass

    def close(self) -> None:
        self._voices.clear()

    def voices(self) -> list[str]:
        return sorted(self._catalog())

    def synthesize(
        self, text: str, *, voice: str | None = None, speed: float = 1.0
    ) -> Iterator[SpeechChunk]:
        from piper import SynthesisConfig

        piper_voice = self._voice(voice or self.settings.tts.voice)
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise PipelineError(
                "invalid_speed", f"speed must be {MIN_SPEED} to {MAX_SPEED}, got {speed}"
            )
        default_scale = piper_voice.config.length_scale or 1.0
        config = SynthesisConfig(length_scale=default_scale / speed)
        rate = piper_voice.config.sample_rate
        for sentence in split_sentences(text):
            pieces = [chunk.audio_float_array for chunk in piper_voice.synthesize(sentence, config)]
            if not pieces:
                continue  # nothing speakable, e.g. only punctuation
            samples = np.concatenate(pieces).astype(np.float32, copy=False)
            if rate != self.sample_rate:
                samples = resample(samples, rate=rate, to=self.sample_rate)
            yield SpeechChunk(text=sentence, samples=samples, sample_rate=self.sample_rate)

    def _catalog(self) -> dict[str, str]:
        return get_manifest(self.settings).voices(self.name)

    def _model_id(self, name: str) -> str:
        catalog = self._catalog()
        if name not in catalog and name.lower() in OPENAI_VOICES:
            name = self.settings.tts.voice
        try:
            return catalog[name]
        except KeyError:
            known = ", ".join(sorted(catalog)) or "none in the manifest"
            raise PipelineError("unknown_voice", f"no voice {name!r} (voices: {known})") from None

    def _voice(self, name: str) -> PiperVoice:
        """The loaded voice ``name``, fetching and loading it on its first use."""
        model_id = self._model_id(name)
        with self._loading:
            voice = self._voices.get(model_id)
            if voice is None:
                folder = prepare_model(self.settings, model_id, progress=self.download_progress)
                voice = self._voices[model_id] = self._load_voice(folder)
        return voice

    def _load_voice(self, folder: Path) -> PiperVoice:
        from piper import PiperConfig, PiperVoice

        from visiovox.models.onnx_session import create_session

        model = next(folder.glob("*.onnx"))
        config = PiperConfig.from_dict(
            json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8"))
        )
        # Zeros are no valid phoneme input; ``load`` warms up with a real sentence instead.
        loaded = create_session(model, settings=self.settings, device=self.device, warmup=False)
        log.info("piper voice %s on %s", model.name, loaded.providers[0])
        return PiperVoice(session=loaded.session, config=config)
