"""``POST /v1/chat/completions``: OpenAI's chat API on the ``chat`` pipeline.

The request runs as a ``chat`` job on a worker; the gateway follows its events
and answers when it ends, or, with ``stream: true``, relays each ``token``
event as a ``chat.completion.chunk`` SSE frame and ends with ``data: [DONE]``.
``model`` is echoed back; the deployment's ``llm.model`` does the work.
Errors keep VisioVox's ``{"error": {"code", "message"}}`` shape (OpenAI's
clients raise ``APIStatusError`` on them). A stream's status line waits for
the reply's first token (or the job's end): a job that fails before writing
anything (messages over the context window, an unreachable LLM server)
answers its status and error as a request without ``stream`` does; an error
after text began is sent as a ``data: {"error": ...}`` frame, which those
clients raise too.
Messages over the model's context window answer as OpenAI does: 400 with
``type: invalid_request_error``, ``param: messages`` and ``code:
context_length_exceeded`` beside the message naming both token counts.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from visiovox.api.deps import CallerDep, FollowDep, SubmitDep
from visiovox.api.errors import ApiError, error_body
from visiovox.api.job_follow import JobFollower
from visiovox.api.schemas import ErrorBody
from visiovox.api.webhook_options import webhook_params
from visiovox.jobs.model import EventType, Job, JobEvent
from visiovox.jobs.queues import Priority

router = APIRouter(prefix="/v1", tags=["openai"])

# The job error code (engines/llm/errors.py) that OpenAI answers with a 400 too.
CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded"

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The completion; with `stream`, SSE `chat.completion.chunk` frames.",
        "content": {"application/json": {}, "text/event-stream": {"schema": {"type": "string"}}},
    },
    **{code: {"model": ErrorBody} for code in (400, 401, 409, 415, 422, 429, 500, 503)},
}


class ContentPart(BaseModel):
    """A part of a message's content; only text parts are understood."""

    model_config = ConfigDict(extra="ignore")

    type: str
    text: str = ""


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart] | None = None

    def plain(self) -> dict[str, str]:
        content = self.content or ""
        if not isinstance(content, str):
            content = "".join(part.text for part in content if part.type == "text")
        return {"role": "system" if self.role == "developer" else self.role, "content": content}


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """The subset of OpenAI's request that a local model honours; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessageIn] = Field(min_length=1)
    # VisioVox's own: the job's webhook (``api/webhook_options.py``).
    webhook: str | None = None
    webhook_events: str | list[str] | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    stream: bool = False
    stream_options: StreamOptions | None = None


def _openai_error(exc: ApiError) -> dict[str, Any]:
    """The error body: OpenAI's ``type`` and ``param`` too where OpenAI has them."""
    body = error_body(exc.code, exc.message)
    if exc.code == CONTEXT_LENGTH_EXCEEDED:
        body["error"].update(type="invalid_request_error", param="messages")
    return body


def _chunk(job: Job, model: str, created: int, **choice: Any) -> str:
    body = {
        "id": f"chatcmpl-{job.id}",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "logprobs": None, "finish_reason": None, **choice}],
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _is_token(event: JobEvent) -> bool:
    return event.type is EventType.LOG and "token" in event.data


async def _first_token(events: AsyncIterator[JobEvent]) -> JobEvent | None:
    """The reply's first ``token`` event; None when the job ended before writing one."""
    async for event in events:
        if _is_token(event):
            return event
    return None


async def _stream(
    follower: JobFollower,
    job: Job,
    request: ChatCompletionRequest,
    *,
    first: JobEvent | None,
    rest: AsyncGenerator[JobEvent, None],
) -> AsyncIterator[str]:
    """The SSE frames from the ``first`` token on; ``rest`` is the job's events after it."""
    created = int(time.time())
    yield _chunk(job, request.model, created, delta={"role": "assistant", "content": ""})
    if first is not None:
        yield _chunk(job, request.model, created, delta={"content": first.data["token"]})
    async with contextlib.aclosing(rest):
        async for event in rest:
            if _is_token(event):
                yield _chunk(job, request.model, created, delta={"content": event.data["token"]})
    try:
        done = await follower.outcome(job)
    except ApiError as exc:
        yield f"data: {json.dumps(_openai_error(exc))}\n\n"
        return
    result = done.result or {}
    yield _chunk(
        job, request.model, created, delta={}, finish_reason=result.get("finish_reason", "stop")
    )
    if request.stream_options and request.stream_options.include_usage:
        usage: dict[str, Any] = {
            "id": f"chatcmpl-{job.id}",
            "object": "chat.completion.chunk",
            "created": created,
            "model": request.model,
            "choices": [],
            "usage": result.get("usage"),
        }
        yield f"data: {json.dumps(usage)}\n\n"
    yield "data: [DONE]\n\n"


@router.post("/chat/completions", response_model=None, responses=_RESPONSES)
async def chat_completions(
    request: ChatCompletionRequest,
    caller: CallerDep,
    submissions: SubmitDep,
    follower: FollowDep,
) -> JSONResponse | StreamingResponse:
    """OpenAI-compatible chat completion, run as a ``chat`` job; SSE chunks with ``stream``."""
    params: dict[str, Any] = {
        "messages": [message.plain() for message in request.messages],
        "stream": request.stream,
    }
    max_tokens = request.max_completion_tokens or request.max_tokens
    if max_tokens is not None:
        params["max_tokens"] = max_tokens
    if request.temperature is not None:
        params["temperature"] = request.temperature
    params.update(webhook_params(request.model_dump(include={"webhook", "webhook_events"})))
    job, _ = await submissions.submit(
        submissions.intake("chat"), caller=caller, params=params, priority=Priority.HIGH
    )
    if request.stream:
        events = follower.events(job)
        try:
            first = await _first_token(events)
            if first is None:
                await follower.outcome(job)  # a failure before any text is answered whole
        except BaseException as exc:
            await events.aclose()
            if isinstance(exc, ApiError):
                return JSONResponse(_openai_error(exc), status_code=exc.status, headers=exc.headers)
            raise
        return StreamingResponse(
            _stream(follower, job, request, first=first, rest=events),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Job-ID": job.id},
        )
    try:
        done = await follower.finished(job)
    except ApiError as exc:
        return JSONResponse(_openai_error(exc), status_code=exc.status, headers=exc.headers)
    result = done.result or {}
    body = {
        "id": f"chatcmpl-{job.id}",
        "object": "chat.completion",
        "created": int(done.created_at),
        "model": request.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": result.get("text", "")},
                "logprobs": None,
                "finish_reason": result.get("finish_reason", "stop"),
            }
        ],
        "usage": result.get("usage"),
    }
    return JSONResponse(body, headers={"X-Job-ID": job.id})
