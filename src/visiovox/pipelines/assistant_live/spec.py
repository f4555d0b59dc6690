"""The live voice assistant: a long-running job that hosts one WebSocket conversation.

The gateway holding ``WS /v1/live/assistant`` creates this job and relays the
socket through the session's capped Redis streams; the worker that claims it
keeps its engines (Silero VAD, Whisper, the LLM, Piper) for the whole session,
so a turn pays no dispatch and no engine acquisition. The loop (``run.py``)
detects the end of each utterance with the VAD and answers it as the REST turn
does, streaming text and sentence audio, and lets the user interrupt a reply by
speaking (barge-in). With ``avatar`` each sentence also comes as lip-synced
JPEG frames of a portrait, and the avatar idles between replies (``avatar.py``,
``avatar_stream.py``). It ends on ``end_session``, on a cancel (the socket
closed) or after ``live.idle_timeout_s`` without a message.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from visiovox.pipelines.assistant.spec import LLM, STT, TTS, VAD
from visiovox.pipelines.chat.spec import Message
from visiovox.pipelines.spec import PipelineSpec


class LiveAssistantParams(BaseModel):
    """The session this job hosts, as the gateway found it when the socket opened."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    session_id: str = Field(min_length=1, max_length=64)
    history: list[Message] = Field(default_factory=list, max_length=256)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    voice: str | None = Field(default=None, max_length=64)
    max_tokens: int = Field(default=96, ge=1, le=1_024)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    avatar: StrictBool = Field(default=False, description="Send the avatar's video frames.")
    visemes: StrictBool = Field(
        default=False, description="Send each sentence's visemes and blendshape weights."
    )
    fps: int = Field(
        default=25, ge=5, le=30, description="The avatar's (and the visemes') frames per second."
    )
    size: int = Field(
        default=512, ge=128, le=1024, description="The avatar frames' longer side in pixels."
    )


# The start_session fields the gateway hands to the job as they are (the job checks them):
# the avatar's, and visemes (visemes.py).
AVATAR_FIELDS = ("avatar", "fps", "size", "visemes")


SPEC = PipelineSpec(
    name="assistant-live",
    summary="Live voice assistant session (WS /v1/live/assistant): VAD, STT, LLM, TTS per turn.",
    params=LiveAssistantParams,
    run="visiovox.pipelines.assistant_live.run:run",
    engines=(VAD, STT, LLM, TTS),
    live=True,
)
