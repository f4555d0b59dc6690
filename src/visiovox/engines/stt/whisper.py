"""faster-whisper (CTranslate2) speech to text, with Silero VAD from faster-whisper's assets.

The weights come from the model manifest (``settings.stt.model``), assembled into
the model cache on ``load``; nothing is downloaded at run time.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from visiovox.engines.stt.base import (
    SAMPLE_RATE,
    Segment,
    SegmentCallback,
    STTEngine,
    Transcript,
    Word,
)
from visiovox.errors import PipelineError
from visiovox.models.cache import prepare_model

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger(__name__)

# Whisper's encoder window: 30 s of 10 ms log-mel frames.
FULL_WINDOW_FRAMES = 3_000
# A short utterance's window: its frames plus 2 s of silence, in steps of 1 s.
WINDOW_PAD_FRAMES = 200
WINDOW_STEP_FRAMES = 100
# Whisper's decoder context is 448 tokens; half of it is far more than 30 s of speech says.
MAX_UTTERANCE_TOKENS = 224


class WhisperSTT(STTEngine):
    """Whisper via faster-whisper on the CPU (int8 by default) or a CUDA device."""

    name = "stt.whisper"
    models = ("whisper-base",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._model: WhisperModel | None = None

    def required_models(self) -> tuple[str, ...]:
        return (self.settings.stt.model,)

    def load(self) -> None:
        from faster_whisper import WhisperModel

        folder = prepare_model(self.settings, self.settings.stt.model)
        device, _, index = self.device.partition(":")
        if device not in ("cpu", "cuda"):
            raise ValueError(f"faster-whisper cannot run on {self.device!r}")
        self._model = WhisperModel(
            str(folder),
            device=device,
            device_index=int(index or 0),
            compute_type=self.settings.stt.compute_type,
            cpu_threads=self.settings.stt.cpu_threads,
        )
        log.info(
            "whisper %s loaded on %s (%s)",
            self.settings.stt.model,
            self.device,
            self.settings.stt.compute_type,
        )

    def close(self) -> None:
        self._model = None

    def transcribe(
        self,
        audio: npt.NDArray[np.float32],
        *,
        language: str | None = None,
        word_timestamps: bool = False,
        on_segment: SegmentCallback | None = None,
        utterance: bool = False,
    ) -> Transcript:
        if self._model is None:
            raise RuntimeError("WhisperSTT.transcribe called before load()")
        duration_s = len(audio) / SAMPLE_RATE
        if len(audio) == 0:
            return Transcript(text="", language=language, duration_s=0.0)
        if language is not None and language not in self._languages():
            raise PipelineError(
                "unsupported_language", f"Whisper does not know language {language!r}"
            )
        stt = self.settings.stt
        if utterance and language and stt.utterance_window and not word_timestamps:
            text = self._transcribe_window(audio, language=language)
            if text is not None:
                return Transcript(text=text, language=language, duration_s=round(duration_s, 3))
        pieces, info = self._model.transcribe(
            audio.astype(np.float32, copy=False),
            language=language,
            beam_size=stt.beam_size,
            vad_filter=stt.vad and not utterance,
            word_timestamps=word_timestamps,
            without_timestamps=utterance and not word_timestamps,
        )
        segments: list[Segment] = []
        # ``pieces`` is lazy: each step decodes the next segment, so callbacks run as it goes.
        for piece in pieces:
            segment = Segment(
                id=len(segments),
                start=round(float(piece.start), 3),
                end=round(float(piece.end), 3),
                text=piece.text.strip(),
                words=tuple(
                    Word(
                        start=round(float(w.start), 3),
                        end=round(float(w.end), 3),
                        word=w.word.strip(),
                        probability=round(float(w.probability), 4),
                    )
                    for w in (piece.words or ())
                ),
            )
            segments.append(segment)
            if on_segment is not None:
                on_segment(segment, min(segment.end, duration_s))
        text = " ".join(segment.text for segment in segments if segment.text)
        return Transcript(
            text=text,
            language=info.language,
            duration_s=round(duration_s, 3),
            segments=tuple(segments),
        )

    def _transcribe_window(self, audio: npt.NDArray[np.float32], *, language: str) -> str | None:
        """One short utterance decoded in an encoder window sized to it, not 30 s.

        faster-whisper always pads the log-mel input to 3,000 frames (30 s);
        CTranslate2's encoder also takes shorter inputs, and the encoder is
        most of a short clip's cost (whisper.cpp's ``audio_ctx`` does the same).
        The window keeps ``WINDOW_PAD_FRAMES`` of silence after the speech.
        None when the utterance is too long for it (the caller decodes normally).
        """
        import ctranslate2
        from faster_whisper.tokenizer import Tokenizer

        assert self._model is not None
        features = self._model.feature_extractor(audio.astype(np.float32, copy=False))
        frames = features.shape[-1]
        window = -(-(frames + WINDOW_PAD_FRAMES) // WINDOW_STEP_FRAMES) * WINDOW_STEP_FRAMES
        if window >= FULL_WINDOW_FRAMES:
            return None
        padded = np.zeros((1, features.shape[0], window), dtype=np.float32)
        padded[0, :, :frames] = features
        tokenizer = Tokenizer(
            self._model.hf_tokenizer,
            self._model.model.is_multilingual,
            task="transcribe",
            language=language,
        )
        encoded = self._model.model.encode(ctranslate2.StorageView.from_array(padded))
        result = self._model.model.generate(
            encoded,
            [[*tokenizer.sot_sequence, tokenizer.no_timestamps]],
            beam_size=self.settings.stt.beam_size,
            max_length=MAX_UTTERANCE_TOKENS,
        )[0]
        tokens = [token for token in result.sequences_ids[0] if token < tokenizer.eot]
        return str(tokenizer.decode(tokens)).strip()

    def _languages(self) -> frozenset[str]:
        assert self._model is not None
        return frozenset(self._model.supported_languages)
