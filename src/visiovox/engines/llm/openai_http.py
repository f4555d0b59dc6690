"""An OpenAI-compatible chat server (Ollama, vLLM, Groq, another VisioVox) as the LLM.

``POST {llm.base_url}/chat/completions`` with ``stream: true``: the server
answers with Server-Sent Events, one ``data: {chat.completion.chunk}`` per
piece of text and ``data: [DONE]`` at the end; the last chunk carries token
usage when the server honours ``stream_options.include_usage``. Every way the
exchange can fail becomes an ``LLMServerError`` with its own code, so the job
fails with a clear reason and the worker carries on; a 400 whose error code is
``context_length_exceeded`` (OpenAI's, or another VisioVox's) is the caller's
``ContextLengthExceeded``, naming both token counts when the server's message
does. The API key is sent as a bearer token and never logged.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import requests
from urllib3.exceptions import ReadTimeoutError

from visiovox.engines.llm.base import ChatMessage, LLMEngine, Usage
from visiovox.engines.llm.errors import ContextLengthExceeded, LLMServerError

log = logging.getLogger(__name__)

DONE = "[DONE]"
# Characters of an error body quoted in a failure message.
ERROR_EXCERPT = 300
# Most bytes of an error body read (a body past it is judged by its start).
MAX_ERROR_BODY = 64 * 1024
CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded"
# The token counts in the messages of OpenAI ("This model's maximum context length is
# 4096 tokens. However, your messages resulted in 5000 tokens...") and of VisioVox.
_OPENAI_COUNTS = re.compile(
    r"maximum context length is (?P<context>\d+) tokens.*?"
    r"(?:messages resulted in|you requested) (?P<prompt>\d+) tokens",
    re.DOTALL,
)
_VISIOVOX_COUNTS = re.compile(
    r"the messages are (?P<prompt>\d+) tokens, over the model's context window "
    r"of (?P<context>\d+) tokens"
)


class OpenAIHttpLLM(LLMEngine):
    """``settings.llm.remote_model`` on the server at ``settings.llm.base_url``."""

    name = "llm.openai_http"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._session: requests.Session | None = None

    @property
    def url(self) -> str:
        return self.settings.llm.base_url.rstrip("/") + "/chat/completions"

    def load(self) -> None:
        # Nothing to load; one pooled session keeps the connection alive between turns.
        self._session = requests.Session()
        key = self.settings.llm.api_key
        if key is not None and key.get_secret_value():
            self._session.headers["Authorization"] = f"Bearer {key.get_secret_value()}"
        log.info("LLM: %s at %s", self.settings.llm.remote_model, self.url)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        usage: Usage | None = None,
    ) -> Iterator[str]:
        if self._session is None:
            raise RuntimeError("the engine is not loaded")
        usage = usage if usage is not None else Usage()
        body = {
            "model": self.settings.llm.remote_model,
            "messages": [dict(message) for message in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        timeout = self.settings.llm.timeout_s
        try:
            response = self._session.post(
                self.url,
                json=body,
                headers={"Accept": "text/event-stream"},
                stream=True,
                timeout=(timeout, timeout),
            )
        except requests.RequestException as exc:
            raise self._transport_error(exc) from exc
        with response:
            self._check_status(response)
            yield from self._read_stream(response, usage)

    def _read_stream(self, response: requests.Response, usage: Usage) -> Iterator[str]:
        ended = False
        server_usage = False
        try:
            # chunk_size=None: hand over each piece as it arrives, not after 512 bytes.
            for raw in response.iter_lines(chunk_size=None, decode_unicode=False):
                line = raw.decode("utf-8", errors="replace").strip()
                if not line.startswith("data:"):
                    continue  # blank separators, ": keep-alive" comments, "event:" lines
                data = line[len("data:") :].strip()
                if data == DONE:
                    ended = True
                    break
                chunk = self._parse_chunk(data)
                if chunk.get("usage"):
                    server_usage = True
                    usage.prompt_tokens = int(chunk["usage"].get("prompt_tokens") or 0)
                    usage.completion_tokens = int(chunk["usage"].get("completion_tokens") or 0)
                for choice in chunk.get("choices") or ():
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        if not server_usage:
                            usage.completion_tokens += 1
                        yield str(text)
                    if choice.get("finish_reason"):
                        usage.finish_reason = str(choice["finish_reason"])
                        ended = True
        except requests.RequestException as exc:
            raise self._transport_error(exc, during_reply=True) from exc
        if not ended:
            raise LLMServerError(
                "llm_server_error", f"the LLM server at {self.url} ended the reply without [DONE]"
            )

    def _parse_chunk(self, data: str) -> dict[str, Any]:
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise LLMServerError(
                "llm_server_error",
                f"the LLM server at {self.url} sent a frame that is not JSON: {data[:80]!r}",
            ) from exc
        if not isinstance(chunk, dict):
            raise LLMServerError(
                "llm_server_error", f"the LLM server at {self.url} sent {data[:80]!r}"
            )
        if "error" in chunk:
            raise LLMServerError(
                "llm_server_error", f"the LLM server at {self.url} failed: {_describe(chunk)}"
            )
        return chunk

    def _check_status(self, response: requests.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        body = _error_body(response)
        detail = _describe(body)
        where = f"the LLM server at {self.url}"
        if status == 400 and _error_code(body) == CONTEXT_LENGTH_EXCEEDED:
            raise _context_length_exceeded(detail, where=where)
        if status in (401, 403):
            raise LLMServerError(
                "llm_unauthorized",
                f"{where} refused the API key (HTTP {status}: {detail}); "
                "set llm.api_key (VISIOVOX_LLM__API_KEY)",
            )
        if status == 404:
            raise LLMServerError(
                "llm_model_not_found",
                f"{where} has no model {self.settings.llm.remote_model!r} or no chat API "
                f"at that URL (HTTP 404: {detail}); check llm.remote_model and llm.base_url",
            )
        raise LLMServerError("llm_server_error", f"{where} answered HTTP {status}: {detail}")

    def _transport_error(
        self, exc: requests.RequestException, *, during_reply: bool = False
    ) -> LLMServerError:
        where = f"the LLM server at {self.url}"
        timeout = self.settings.llm.timeout_s
        # requests reports a read timeout inside a streamed body as a ConnectionError.
        timed_out = isinstance(exc, requests.Timeout) or any(
            isinstance(arg, ReadTimeoutError) for arg in exc.args
        )
        if timed_out:
            what = "sent nothing" if during_reply else "did not answer"
            return LLMServerError("llm_timeout", f"{where} {what} for {timeout:g}s")
        if during_reply:
            return LLMServerError("llm_server_error", f"{where} cut the reply short: {exc}")
        return LLMServerError("llm_unreachable", f"cannot reach {where}: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    """The gist of a transport failure, not urllib3's nested wrapping of it."""
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "Temporary failure in name resolution" in text:
        return "unknown host"
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection was closed before an answer"
    return text[:ERROR_EXCERPT]


def _error_body(response: requests.Response) -> Any:
    """An error answer's body: its JSON, else its text (at most ``MAX_ERROR_BODY`` bytes)."""
    try:
        raw = next(response.iter_content(MAX_ERROR_BODY), b"")
    except requests.RequestException:
        return ""
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _error_code(body: Any) -> str | None:
    """OpenAI's ``error.code`` (a string there; vLLM puts the status number in it)."""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def _context_length_exceeded(detail: str, *, where: str) -> ContextLengthExceeded:
    """The caller's messages are over the remote model's window: counted where the message
    says the numbers, else in the server's own words."""
    for pattern in (_OPENAI_COUNTS, _VISIOVOX_COUNTS):
        match = pattern.search(detail)
        if match is not None:
            return ContextLengthExceeded.counted(
                prompt_tokens=int(match["prompt"]), context_tokens=int(match["context"])
            )
    return ContextLengthExceeded(
        f"{where} found the messages over the model's context window: {detail}; "
        "shorten the messages"
    )


def _describe(body: Any) -> str:
    """The message of OpenAI's ``{"error": {"message"}}`` (or VisioVox's same shape)."""
    if isinstance(body, str):
        return body.strip()[:ERROR_EXCERPT] or "no body"
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return str(error.get("message") or error.get("code") or error)[:ERROR_EXCERPT]
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])[:ERROR_EXCERPT]
    return json.dumps(body)[:ERROR_EXCERPT]
