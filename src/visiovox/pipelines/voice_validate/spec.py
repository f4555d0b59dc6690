"""``voice-validate``: the job ``POST /v1/voices`` creates to check an uploaded RVC voice.

The gateway stores the files under ``<storage root>/voices/<id>/`` and never
parses them (it stays engine-free and light); this job, on a worker, checks
the graph as untrusted input and runs it once (``engines/voice/rvc_validate``).
A voice that fails is removed with its files and the job fails
``invalid_voice_model``. Voice ids are 128 random bits issued by the server
and shown only to their owner.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from visiovox.pipelines.spec import PipelineSpec

# The output rates of RVC v2's pretrained generators (32k, 40k, 48k).
RvcSampleRate = Literal[32_000, 40_000, 48_000]


class VoiceValidateParams(BaseModel):
    """Which voice to check, and the rate its owner declared."""

    voice_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    sample_rate: RvcSampleRate


SPEC = PipelineSpec(
    name="voice-validate",
    summary="Checks an uploaded RVC voice (made by POST /v1/voices).",
    params=VoiceValidateParams,
    run="visiovox.pipelines.voice_validate.run:run",
)
