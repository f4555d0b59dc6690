"""Chat: a conversation in, the model's reply out, streamed token by token.

Each generated piece is a ``log`` event with data ``{"token": "..."}``, so a
client following the job's events (SSE, WebSocket, /v1/chat/completions) sees
the reply as it is written. The result is ``{text, usage, finish_reason}``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from visiovox.pipelines.spec import PipelineSpec

# A role, not an engine: llm.engine picks llama.cpp or an OpenAI-compatible server.
ENGINE = "llm"


class Message(BaseModel):
    """One turn of the conversation."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=32_000)


class ChatParams(BaseModel):
    """The conversation so far and how to sample the reply."""

    model_config = ConfigDict(extra="forbid")

    messages: list[Message] = Field(min_length=1, max_length=256)
    max_tokens: int | None = Field(
        default=None, ge=1, le=1_024, description="Most tokens of the reply; empty: llm.max_tokens."
    )
    temperature: float | None = Field(
        default=None, ge=0.0, le=2.0, description="0 is greedy; empty: llm.temperature."
    )
    stream: bool = Field(default=True, description="Emit each token as a log event.")


SPEC = PipelineSpec(
    name="chat",
    summary="Chat completion with the configured LLM (llm.engine), streamed token by token.",
    params=ChatParams,
    run="visiovox.pipelines.chat.run:run",
    engines=(ENGINE,),
    interactive=True,
)
