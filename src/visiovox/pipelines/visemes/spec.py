"""Visemes: text (spoken by Piper) or speech audio in, ``visemes.json`` out.

With ``text``, Piper speaks it (``speech.wav``, the same caps as ``tts``: the
text's length at submission, ``tts.max_chars`` and ``tts.max_audio_s`` in the
job) and the visemes follow the phonemes it spoke, with their durations. With
an ``audio`` upload, HeadAudio's classifier hears them (audio with no speech
fails ``no_speech``). Both give the same ``visemes.json``: the 15 Oculus
visemes and ARKit blendshape weights at ``fps`` frames a second (schema in
``engines/visemes/timeline.py`` and the README).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from visiovox.config import SPEECH_MAX_CHARS
from visiovox.media.kinds import MediaKind
from visiovox.media.speakable import speakable_text
from visiovox.pipelines.spec import InputSpec, PipelineSpec
from visiovox.pipelines.voice_choice import LANGUAGE_PATTERN

TTS, CLASSIFIER = "tts.piper", "visemes.headaudio"
INPUT = "audio"
MAX_FPS = 120.0


class VisemesParams(BaseModel):
    """What to say (or the audio input instead), in which voice, and the frame rate."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str | None = Field(
        default=None,
        min_length=1,
        max_length=SPEECH_MAX_CHARS,
        description="Text for Piper to speak; or send the audio input instead.",
    )
    voice: str | None = Field(
        default=None,
        max_length=64,
        description="Piper voice for text; empty: the voice of language, else the default.",
    )
    language: str | None = Field(
        default=None,
        pattern=LANGUAGE_PATTERN,
        description="Language of the text: with no voice, the voice tts.language_voices gives it.",
    )
    speed: float = Field(default=1.0, ge=0.25, le=4.0, description="1.0 normal, 2.0 twice as fast.")
    fps: float = Field(
        default=30.0, ge=1.0, le=MAX_FPS, description="Frames a second of visemes.json."
    )

    @field_validator("text")
    @classmethod
    def _speakable(cls, text: str | None) -> str | None:
        return None if text is None else speakable_text(text)


SPEC = PipelineSpec(
    name="visemes",
    summary="Viseme and ARKit blendshape timeline (visemes.json) of text Piper speaks "
    "or of speech audio.",
    params=VisemesParams,
    run="visiovox.pipelines.visemes.run:run",
    inputs=(
        InputSpec(
            field=INPUT,
            kinds=frozenset({MediaKind.AUDIO, MediaKind.VIDEO}),
            required=False,
            description="Speech to take visemes from; or pass the text param instead.",
            required_when=("text", None),
        ),
    ),
    engines=(TTS, CLASSIFIER),
    interactive=True,
)
