"""Voice conversion: ``audio`` spoken toward the voice of ``reference``, ``converted.<format>`` out.

``engine=auto`` is the offline converter (``voice.convert_psola``: pitch level,
range and formants; no model download). A registered voice (``voice``, the
owner's, ready: checked at submission) is converted by ``voice.rvc``
(``rvc.py``); ``engine=rvc`` with no voice fails ``model_unavailable``, and
the RVC engine needs its shared models (ContentVec, RMVPE) on the worker.
``reference`` is required unless a
``voice`` is named, and must last at least ``MIN_REFERENCE_S`` (422
``reference_too_short`` at submission when the probe knows its duration, else
the job fails with that code); a longer one than ``MAX_REFERENCE_S`` is trimmed
to its first ``MAX_REFERENCE_S`` of speech.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from visiovox.media.kinds import MediaKind
from visiovox.pipelines.spec import InputSpec, PipelineSpec

OFFLINE_ENGINE = "voice.convert_psola"
VAD = "vad.silero"
AUDIO = "audio"
REFERENCE = "reference"
MIN_REFERENCE_S = 3.0
MAX_REFERENCE_S = 60.0
SPEECH = frozenset({MediaKind.AUDIO, MediaKind.VIDEO})


class VoiceConvertParams(BaseModel):
    """How far to move the pitch, which engine and voice, and the output's format."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    pitch_shift: float | None = Field(
        default=None,
        ge=-24,
        le=24,
        description="Semitones to move the source's median F0; empty: to the reference's.",
    )
    engine: Literal["auto", "psola", "rvc"] = Field(
        default="auto",
        description="auto: rvc for a registered voice, else the offline PSOLA converter; "
        "psola or rvc by name.",
    )
    voice: str | None = Field(
        default=None,
        max_length=64,
        description="A registered voice's id, instead of a reference recording.",
    )
    format: Literal["wav", "mp3", "ogg", "opus", "flac", "aac", "pcm"] = Field(
        default="wav",
        description="Audio format of converted.<ext>: ogg and opus are both Opus in Ogg, "
        "aac is ADTS, pcm is raw 16-bit little-endian mono.",
    )


SPEC = PipelineSpec(
    name="voice-convert",
    summary="Voice conversion: the speech of audio in the voice of reference, converted.<format>.",
    params=VoiceConvertParams,
    run="visiovox.pipelines.voice_convert.run:run",
    inputs=(
        InputSpec(AUDIO, SPEECH, description="The speech to convert (audio, or a video's track)."),
        InputSpec(
            REFERENCE,
            SPEECH,
            required=False,
            required_when=("voice", None),
            description=f"The target voice, {MIN_REFERENCE_S:g}-{MAX_REFERENCE_S:g} s of speech "
            "(longer: its first 60 s of speech are used); required unless voice is given.",
            min_duration_s=MIN_REFERENCE_S,
            too_short_code="reference_too_short",
        ),
    ),
    engines=(OFFLINE_ENGINE, VAD),
)
