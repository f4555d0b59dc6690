"""Piper TTS (piper-tts 1.8, ONNX Runtime) speaking any Piper voice of the manifest.

A voice is a manifest entry of this engine, named in requests by its id
(``piper-lessac-medium``) or its short ``voice`` name (``lessac``); OpenAI's
voice names (``alloy``, ...) mean the default voice, on every path. The default
voice (``tts.voice``) is loaded with the engine; any other is fetched through
the model cache on first use (download progress on the job, the usual offline
error naming ``visiovox models pull``), then kept while the engine is loaded.
Each sentence is synthesised on its own so the pipeline can report progress and
honour a cancel between sentences.

Memory is bounded per ONNX Runtime call, not per request: Piper's decoder holds
every activation of a call at once, about 20 MB per second of audio made, and
espeak can turn a few characters into many phonemes (an emoji becomes its
name). So each sentence's phonemes are cut into calls of at most
``MAX_CALL_PHONEMES`` (about 6 s of audio at any speed), and the session's CPU
arena is shrunk after every run, since it otherwise keeps its high-water mark
for the life of the worker (issue 11: one request left a worker at 4.9 GB).

Every chunk carries the phonemes it speaks with their durations (for viseme
timelines). Piper's graph computes each phoneme id's length in frames (its one
``Ceil`` node) but the pinned voice files do not output it, so each voice is
patched in memory at load, as piper's own ``include_alignments`` does
(``piper.patch_voice_with_alignment``): the tensor becomes a second output of a
copy of the graph, which the session factory loads from bytes. The file on disk
is never changed. A graph that cannot be patched loads as it is, and its
chunks carry no phonemes.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from visiovox.engines.tts.base import SpeechChunk, TTSEngine
from visiovox.engines.tts.sentences import split_sentences
from visiovox.engines.tts.voices import OPENAI_VOICES
from visiovox.errors import PipelineError
from visiovox.media.resample import resample
from visiovox.media.speakable import strip_unspeakable
from visiovox.models.cache import prepare_model
from visiovox.models.manifest import get_manifest

if TYPE_CHECKING:
    import onnxruntime as ort
    from piper import PiperVoice, SynthesisConfig

log = logging.getLogger(__name__)

# Speed outside this range makes Piper mumble or drawl past understanding.
MIN_SPEED, MAX_SPEED = 0.25, 4.0
# Phonemes of one synthesis call at length scale 1.0 (about 20 a second of speech):
# at most about 6 s of audio and 140 MB of activations (docs/benchmarks.md). A
# slower speed makes more audio per phoneme, so the bound shrinks with it.
MAX_CALL_PHONEMES = 120


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
        length_scale = default_scale / speed
        config = SynthesisConfig(length_scale=length_scale)
        max_phonemes = max(8, int(MAX_CALL_PHONEMES / length_scale))
        for sentence in split_sentences(strip_unspeakable(text)):
            calls = [
                part
                for phonemes in piper_voice.phonemize(sentence)
                for part in split_phonemes(phonemes, max_len=max_phonemes)
            ]  # none: nothing speakable, e.g. only punctuation
            for index, phonemes in enumerate(calls):
                samples, timing = self._speak(piper_voice, phonemes, config)
                yield SpeechChunk(
                    text=sentence,
                    samples=samples,
                    sample_rate=self.sample_rate,
                    last=index == len(calls) - 1,
                    phonemes=timing,
                )

    def _speak(
        self, voice: PiperVoice, phonemes: list[str], config: SynthesisConfig
    ) -> tuple[npt.NDArray[np.float32], tuple[tuple[str, float], ...]]:
        """One synthesis call, normalised and clipped as Piper's own ``synthesize`` does.

        Answers the samples and each phoneme's seconds (none when the graph has no
        duration output).
        """
        phoneme_ids = voice.phonemes_to_ids(phonemes)
        result = voice.phoneme_ids_to_audio(phoneme_ids, config, include_alignments=True)
        audio, id_samples = result if isinstance(result, tuple) else (result, None)
        timing: tuple[tuple[str, float], ...] = ()
        if id_samples is not None:
            timing = phoneme_seconds(
                phonemes,
                id_samples=np.atleast_1d(id_samples),
                id_map=voice.config.phoneme_id_map,
                sample_rate=voice.config.sample_rate,
            )
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        scaled = np.clip(audio / peak, -1.0, 1.0) if peak >= 1e-8 else np.zeros_like(audio)
        samples: npt.NDArray[np.float32] = scaled.astype(np.float32, copy=False)
        rate = voice.config.sample_rate
        if rate != self.sample_rate:
            samples = resample(samples, rate=rate, to=self.sample_rate)
        return samples, timing

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
        loaded = create_session(
            with_duration_output(model), settings=self.settings, device=self.device, warmup=False
        )
        log.info("piper voice %s on %s", model.name, loaded.providers[0])
        session = ArenaShrinkingSession(loaded.session)
        # Piper calls nothing but session.run, which the wrapper provides.
        return PiperVoice(session=session, config=config)


def with_duration_output(model: Path) -> Path | bytes:
    """The voice's graph with each phoneme id's length as a second output, in memory.

    The graph as it is (its path) when it has no single ``Ceil`` node to expose.
    """
    import onnx
    from piper.patch_voice_with_alignment import add_alignment_output

    graph = onnx.load(str(model))
    try:
        add_alignment_output(graph)
    except ValueError as exc:  # no single Ceil node, or already an output
        log.warning("piper voice %s: no phoneme durations (%s)", model.name, exc)
        return model
    patched: bytes = graph.SerializeToString()
    return patched


def phoneme_seconds(
    phonemes: list[str],
    *,
    id_samples: npt.NDArray[np.integer],
    id_map: Mapping[str, Sequence[int]],
    sample_rate: int,
) -> tuple[tuple[str, float], ...]:
    """Each phoneme's seconds: the samples of its ids and the padding after it.

    Piper's input is ``^`` and padding, each phoneme's ids and padding, then
    ``$`` (``piper.phoneme_ids.phonemes_to_ids``, which skips a phoneme its map
    lacks); ``id_samples`` has one count per id. Empty when they do not line up.
    """
    from piper.const import BOS, EOS, PAD

    pad = len(id_map.get(PAD, []))
    symbols = [BOS, *(symbol for symbol in phonemes if symbol in id_map), EOS]
    widths = [len(id_map[symbol]) + (pad if symbol != EOS else 0) for symbol in symbols]
    if sum(widths) != len(id_samples):
        log.warning("piper phoneme durations do not line up with the phonemes; none given")
        return ()
    ends = np.cumsum(widths)
    totals = np.add.reduceat(id_samples.astype(np.int64), ends - np.asarray(widths))
    return tuple(
        (symbol, float(total) / sample_rate) for symbol, total in zip(symbols, totals, strict=True)
    )


def split_phonemes(phonemes: list[str], *, max_len: int) -> list[list[str]]:
    """``phonemes`` in runs of at most ``max_len``, each cut at the last word end that fits.

    Piper's phonemes are single symbols with ``" "`` between words; a run with
    no word end (one endless word) is cut at the limit.
    """
    runs: list[list[str]] = []
    rest = phonemes
    while len(rest) > max_len:
        spaces = [i for i, symbol in enumerate(rest[: max_len + 1]) if symbol == " " and i > 0]
        cut = spaces[-1] if spaces else max_len
        runs.append(rest[:cut])
        rest = rest[cut:]
        while rest and rest[0] == " ":
            rest = rest[1:]
    if rest:
        runs.append(rest)
    return runs


class ArenaShrinkingSession:
    """An ONNX Runtime session whose CPU arena hands its buffers back after every run.

    ONNX Runtime's arena otherwise keeps the largest run's buffers for the
    session's life. Shrinking cost no measurable time for Piper (0.35 s for 6 s of
    audio either way).
    """

    def __init__(self, session: ort.InferenceSession) -> None:
        import onnxruntime as ort

        self._session = session
        self._options = ort.RunOptions()
        self._options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def run(self, output_names: list[str] | None, input_feed: dict[str, Any]) -> list[Any]:
        return list(self._session.run(output_names, input_feed, self._options))
