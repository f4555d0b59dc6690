"""Live voice conversion: a long-running job that hosts one ``WS /v1/live/voice`` session.

The gateway checks ``start_session`` against ``LiveVoiceParams`` (and that a
named ``voice`` is the caller's and ready) and creates this job; the worker
that claims it keeps its engines for the whole session. Without a ``voice``
the client's first binary message is the reference recording (a WAV file),
each later one a PCM16 mono chunk at ``sample_rate``; the loop (``run.py``)
converts them block by block (``blocks.py``) and sends the converted PCM back
in order.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from visiovox.pipelines.spec import PipelineSpec
from visiovox.pipelines.voice_convert.spec import OFFLINE_ENGINE, VAD


class LiveVoiceParams(BaseModel):
    """The choices of ``start_session`` (every one optional)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    voice: str | None = Field(
        default=None,
        max_length=64,
        description="A registered (RVC) voice's id; without one, the first binary message is "
        "a reference recording of the target voice (WAV, 3-60 s) for the offline converter.",
    )
    sample_rate: Literal[16000, 48000] = Field(
        default=16000, description="Rate of the PCM16 mono chunks in, and of those out."
    )
    pitch_shift: float | None = Field(
        default=None,
        ge=-24,
        le=24,
        description="Semitones: with a reference, from the reference's median F0 (empty: to "
        "it); with a voice, RVC's transpose (empty: 0).",
    )


SPEC = PipelineSpec(
    name="voice-convert-live",
    summary="Live voice conversion session (WS /v1/live/voice): PCM in, converted PCM out.",
    params=LiveVoiceParams,
    run="visiovox.pipelines.voice_convert_live.run:run",
    engines=(OFFLINE_ENGINE, VAD),
    live=True,
)
