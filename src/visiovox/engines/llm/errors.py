"""Typed failures of an LLM: each ends the job with a stable code and a clear message."""

from __future__ import annotations

from visiovox.errors import PipelineError


class LLMServerError(PipelineError):
    """The OpenAI-compatible server could not produce the reply; ``code`` says why.

    Codes: ``llm_unreachable`` (refused, unknown host, connection dropped before
    an answer), ``llm_unauthorized`` (401/403: the API key), ``llm_model_not_found``
    (404: no such model, or no chat API at that URL), ``llm_timeout`` (no
    connection or no data within ``llm.timeout_s``), ``llm_server_error`` (any
    other status, an error frame, a stream cut short or not understood).
    """


class ContextLengthExceeded(PipelineError):
    """The conversation does not fit the model's context window (``context_length_exceeded``).

    The caller's input, not a server failure: ``/v1/chat/completions`` answers it
    with 400 as OpenAI does. ``counted`` names both token counts; a remote server
    that refused the messages without numbers we can read leaves them ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        prompt_tokens: int | None = None,
        context_tokens: int | None = None,
    ) -> None:
        super().__init__("context_length_exceeded", message)
        self.prompt_tokens = prompt_tokens
        self.context_tokens = context_tokens

    @classmethod
    def counted(cls, *, prompt_tokens: int, context_tokens: int) -> ContextLengthExceeded:
        """The error for ``prompt_tokens`` over a window of ``context_tokens``."""
        return cls(
            f"the messages are {prompt_tokens} tokens, over the model's context window "
            f"of {context_tokens} tokens; shorten the messages",
            prompt_tokens=prompt_tokens,
            context_tokens=context_tokens,
        )
