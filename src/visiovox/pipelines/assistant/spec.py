"""A voice assistant turn: speech in, a spoken reply out, sentence by sentence as written.

Stages: ``transcribe`` (Whisper, skipped when ``text`` is given), ``generate``
(the LLM streams ``token`` events) during which every completed sentence is
synthesised at once and published as ``sentence-NNN.wav`` (an ``output``
event a live client can fetch while the model still writes), then ``encode``
writes the whole reply as ``reply.<format>``. The conversation so far comes in
``history`` (the gateway keeps sessions); the result, also written as
``turn.json``, carries the transcription, the reply, token usage and stage
timings in seconds. With ``visemes``, ``visemes.json`` times the reply's
visemes and blendshapes (``pipelines/viseme_output.py``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from visiovox.media.kinds import MediaKind
from visiovox.pipelines.chat.spec import Message
from visiovox.pipelines.spec import InputSpec, PipelineSpec

# LLM is a role: the engine pool serves the one llm.engine names.
STT, LLM, TTS, VAD = "stt.whisper", "llm", "tts.piper", "vad.silero"
INPUT = "audio"


class AssistantParams(BaseModel):
    """One turn: the history, what the user said (audio input or ``text``), how to answer."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    history: list[Message] = Field(default_factory=list, max_length=256)
    text: str | None = Field(default=None, max_length=4_000, description="Typed instead of spoken.")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    voice: str | None = Field(default=None, max_length=64)
    format: Literal["wav", "mp3", "ogg", "opus", "flac", "aac", "pcm"] = "wav"
    max_tokens: int = Field(default=96, ge=1, le=1_024)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    visemes: bool = Field(
        default=False,
        description="Also write visemes.json: Oculus visemes and ARKit blendshape weights "
        "of the speech, from the phonemes Piper spoke.",
    )
    visemes_fps: float = Field(
        default=30.0, ge=1.0, le=120.0, description="Frames a second of visemes.json."
    )

    @model_validator(mode="after")
    def _no_empty_text(self) -> AssistantParams:
        if self.text == "":
            self.text = None
        return self


SPEC = PipelineSpec(
    name="assistant",
    summary="Voice assistant turn: transcribe, answer with the LLM, speak each sentence.",
    params=AssistantParams,
    run="visiovox.pipelines.assistant.run:run",
    inputs=(
        InputSpec(
            field=INPUT,
            kinds=frozenset({MediaKind.AUDIO, MediaKind.VIDEO}),
            required=False,
            description="What the user said; or pass the text param instead.",
            required_when=("text", None),
        ),
    ),
    engines=(STT, LLM, TTS, VAD),
    interactive=True,
)
