"""Chat: a conversation in, the model's reply out, streamed token by token.

Each generated piece is a ``log`` event with data ``{"token": "..."}``, so a
client following the job's events (SSE, WebSocket, /v1/chat/completions) sees
the reply as it is written. The result is ``{text, usage, finish_reason}``.
Module-level imports stay light: the gateway imports this for ``SPEC``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from visiovox.pipelines.context import RunContext
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


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, ChatParams)
    from visiovox.engines.llm.base import ChatMessage, LLMEngine, Usage

    ctx.stage("generate")
    engine = ctx.engine(ENGINE, LLMEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
    settings = engine.settings.llm
    max_tokens = params.max_tokens or settings.max_tokens
    temperature = settings.temperature if params.temperature is None else params.temperature
    messages = [ChatMessage(role=m.role, content=m.content) for m in params.messages]
    usage = Usage()
    pieces: list[str] = []
    ctx.check_cancelled()
    for piece in engine.chat(messages, max_tokens=max_tokens, temperature=temperature, usage=usage):
        pieces.append(piece)
        if params.stream:
            ctx.token(piece)
        ctx.progress(100.0 * len(pieces) / max_tokens, stage="generate")
        ctx.check_cancelled()
    return {"text": "".join(pieces), "usage": usage.to_json(), "finish_reason": usage.finish_reason}


SPEC = PipelineSpec(
    name="chat",
    summary="Chat completion with the configured LLM (llm.engine), streamed token by token.",
    params=ChatParams,
    run="visiovox.pipelines.chat:run",
    engines=(ENGINE,),
)
