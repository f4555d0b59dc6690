"""Text to speech: text in, ``speech.<format>`` out, synthesised sentence by sentence.

The text loses its invisible characters at submission, and text with nothing
speakable left is refused there (422 ``no_speakable_text``, ``media/speakable.py``).
Long sentences are synthesised in bounded chunks, with a cancel honoured
between them, and the job fails with ``audio_too_long`` past
``tts.max_audio_s`` of speech (``pipelines/synthesis.py``). With ``language``
and no ``voice``, the voice ``tts.language_voices`` gives that language speaks
(``pipelines/voice_choice.py``); a language it lacks fails ``unsupported_language``.
With ``visemes``, ``visemes.json`` (``pipelines/viseme_output.py``) comes too.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from visiovox.config import SPEECH_MAX_CHARS
from visiovox.media.speakable import speakable_text
from visiovox.pipelines.spec import PipelineSpec
from visiovox.pipelines.voice_choice import LANGUAGE_PATTERN

ENGINE = "tts.piper"


class TTSParams(BaseModel):
    """What to say, in which voice, how fast, and in which audio format."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(
        min_length=1,
        max_length=SPEECH_MAX_CHARS,
        description="Text to speak: invisible characters are dropped; a letter or digit must stay.",
    )
    voice: str | None = Field(
        default=None,
        max_length=64,
        description="Voice name; empty: the voice of language, else the configured default.",
    )
    language: str | None = Field(
        default=None,
        pattern=LANGUAGE_PATTERN,
        description="Language of the text (pt, pt_BR, ru, zh): with no voice, "
        "the voice tts.language_voices gives it.",
    )
    speed: float = Field(default=1.0, ge=0.25, le=4.0, description="1.0 normal, 2.0 twice as fast.")
    format: Literal["wav", "mp3", "ogg", "opus", "flac", "aac", "pcm"] = Field(
        default="wav",
        description="Audio format of speech.<ext>: ogg and opus are both Opus in Ogg, "
        "aac is ADTS, pcm is raw 16-bit little-endian mono.",
    )
    visemes: bool = Field(
        default=False,
        description="Also write visemes.json: Oculus visemes and ARKit blendshape weights "
        "of the speech, from the phonemes Piper spoke.",
    )
    visemes_fps: float = Field(
        default=30.0, ge=1.0, le=120.0, description="Frames a second of visemes.json."
    )

    @field_validator("text")
    @classmethod
    def _speakable(cls, text: str) -> str:
        return speakable_text(text)


SPEC = PipelineSpec(
    name="tts",
    summary="Text to speech with Piper: speech.<format> (wav, mp3, ogg/opus, flac, aac, pcm).",
    params=TTSParams,
    run="visiovox.pipelines.tts.run:run",
    engines=(ENGINE,),
    interactive=True,
)
