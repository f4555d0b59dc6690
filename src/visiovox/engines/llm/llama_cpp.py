"""llama.cpp (llama-cpp-python) running a GGUF chat model of the manifest.

The chat template comes from the GGUF's own metadata (``create_chat_completion``);
one ``Llama`` per worker process, loaded once and reused by every job. llama.cpp
is not re-entrant, so generations on one engine are serialised by a lock.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from visiovox.engines.llm.base import ChatMessage, LLMEngine, Usage
from visiovox.engines.llm.errors import ContextLengthExceeded
from visiovox.models.cache import prepare_model

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)

# llama-cpp-python's only signal for a prompt over n_ctx is this ValueError, raised
# by the stream's first step (Llama._create_completion, as of 0.3.x).
_OVER_CONTEXT = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")


def _context_checked(stream: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """``stream``, with llama.cpp's prompt-too-long ``ValueError`` as ``ContextLengthExceeded``."""
    try:
        yield from stream
    except ValueError as exc:
        match = _OVER_CONTEXT.search(str(exc))
        if match is None:
            raise
        prompt, context = (int(group) for group in match.groups())
        raise ContextLengthExceeded(prompt_tokens=prompt, context_tokens=context) from exc


class LlamaCppLLM(LLMEngine):
    """The manifest model ``settings.llm.model`` on llama.cpp (CPU, or CUDA if built so)."""

    name = "llm.llama_cpp"
    models = ("smollm2-135m-instruct",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._llama: Llama | None = None
        self._lock = threading.Lock()

    def required_models(self) -> tuple[str, ...]:
        return (self.settings.llm.model,)

    def load(self) -> None:
        from llama_cpp import Llama

        folder = prepare_model(self.settings, self.settings.llm.model)
        model_path = next(folder.glob("*.gguf"))
        threads = self.settings.llm.threads or max(1, os.cpu_count() or 1)
        gpu_layers = -1 if self.device.startswith("cuda") else 0
        self._llama = Llama(
            model_path=str(model_path),
            n_ctx=self.settings.llm.n_ctx,
            n_threads=threads,
            n_gpu_layers=gpu_layers,
            verbose=False,
        )
        log.info("llama.cpp loaded %s (%d threads)", model_path.name, threads)

    def close(self) -> None:
        if self._llama is not None:
            self._llama.close()
            self._llama = None

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        usage: Usage | None = None,
    ) -> Iterator[str]:
        if self._llama is None:
            raise RuntimeError("the engine is not loaded")
        usage = usage if usage is not None else Usage()
        with self._lock:
            stream = self._llama.create_chat_completion(
                messages=[dict(message) for message in messages],  # type: ignore[misc]
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
            )
            for chunk in _context_checked(cast("Iterator[dict[str, Any]]", stream)):
                choice = chunk["choices"][0]
                text = choice["delta"].get("content")
                if text:
                    usage.completion_tokens += 1
                    yield str(text)
                if choice.get("finish_reason"):
                    usage.finish_reason = str(choice["finish_reason"])
            usage.prompt_tokens = max(0, self._llama.n_tokens - usage.completion_tokens)
