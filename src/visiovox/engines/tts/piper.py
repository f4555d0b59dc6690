"""Piper TTS (piper-tts 1.8, ONNX Runtime) speaking the bundled voices of the manifest.

Voices are manifest entries; their weights are assembled into the model cache
on ``load``. Each sentence is synthesised on its own so the pipeline can report
progress and honour a cancel between sentences.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from visiovox.engines.tts.base import SpeechChunk, TTSEngine
from visiovox.engines.tts.sentences import split_sentences
from visiovox.models.cache import prepare_model
from visiovox.pipelines.errors import PipelineError

if TYPE_CHECKING:
    from piper import PiperVoice

log = logging.getLogger(__name__)

# Speed outside this range makes Piper mumble or drawl past understanding.
MIN_SPEED, MAX_SPEED = 0.25, 4.0


class PiperTTS(TTSEngine):
    """Piper voices by name; ``settings.tts.voice`` is the default."""

    name = "tts.piper"
    # Voice name -> manifest id; every voice is loaded (they are ~60 MB each).
    VOICES: ClassVar[dict[str, str]] = {"joe": "piper-joe-medium"}
    models = tuple(VOICES.values())

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._voices: dict[str, PiperVoice] = {}
        self.sample_rate = 0

    def load(self) -> None:
        for voice_name, model_id in self.VOICES.items():
            self._voices[voice_name] = self._load_voice(prepare_model(self.settings, model_id))
        rates = {voice.config.sample_rate for voice in self._voices.values()}
        if len(rates) != 1:
            raise RuntimeError(f"Piper voices disagree on the sample rate: {sorted(rates)}")
        self.sample_rate = rates.pop()
        # The first inference pays for ONNX Runtime's allocations; do it before a job waits.
        for _chunk in self.synthesize("Ready.", voice=next(iter(self._voices))):
            pass

    def close(self) -> None:
        self._voices.clear()

    def voices(self) -> list[str]:
        return sorted(self._voices)

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
        for sentence in split_sentences(text):
            pieces = [chunk.audio_float_array for chunk in piper_voice.synthesize(sentence, config)]
            if not pieces:
                continue  # nothing speakable, e.g. only punctuation
            samples = np.concatenate(pieces).astype(np.float32, copy=False)
            yield SpeechChunk(text=sentence, samples=samples, sample_rate=self.sample_rate)

    def _voice(self, name: str) -> PiperVoice:
        try:
            return self._voices[name]
        except KeyError:
            known = ", ".join(self.voices()) or "none loaded"
            raise PipelineError("unknown_voice", f"no voice {name!r} (voices: {known})") from None

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
