"""Typed failures of a remote LLM: each ends the job with a stable code and a clear message."""

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
