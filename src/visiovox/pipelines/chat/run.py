"""The chat pipeline's work: stream the LLM's reply, each piece a ``token`` event."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from visiovox.engines.llm.base import ChatMessage, LLMEngine, Usage
from visiovox.pipelines.chat.spec import ENGINE, ChatParams
from visiovox.pipelines.context import RunContext


def run(ctx: RunContext, params: BaseModel) -> dict[str, Any]:
    assert isinstance(params, ChatParams)
    ctx.stage("generate")
    engine = ctx.engine(ENGINE, LLMEngine)  # type: ignore[type-abstract]  # mypy#4717: an ABC is a fine isinstance target
    settings = ctx.settings.llm
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
