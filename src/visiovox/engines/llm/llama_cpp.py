"""llama.cpp (llama-cpp-python) running a GGUF chat model of the manifest.

The chat template comes from the GGUF's own metadata (``create_chat_completion``);
one ``Llama`` per worker process, loaded once and reused by every job. llama.cpp
is not re-entrant, so generations on one engine are serialised by a lock.

On CPU with ``llm.threads`` 0 the thread count follows the cores other processes
leave free (``engines/free_cores.py``), set before the prompt is read and again
between tokens: llama.cpp's threads meet at every step of every token, so one
thread that waits for a core held by another process stalls them all (two busy
processes beside a two-thread model made a short reply 10–20× slower).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from visiovox.engines.free_cores import FreeCores, free_cores
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
        raise ContextLengthExceeded.counted(prompt_tokens=prompt, context_tokens=context) from exc


class LlamaCppLLM(LLMEngine):
    """The manifest model ``settings.llm.model`` on llama.cpp (CPU, or CUDA if built so)."""

    name = "llm.llama_cpp"
    models = ("smollm2-135m-instruct",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._llama: Llama | None = None
        self._lock = threading.Lock()
        self._cores: FreeCores | None = None  # None: a fixed thread count
        self._threads = 0

    def required_models(self) -> tuple[str, ...]:
        return (self.settings.llm.model,)

    def load(self) -> None:
        from llama_cpp import Llama

        folder = prepare_model(self.settings, self.settings.llm.model)
        model_path = next(folder.glob("*.gguf"))
        on_gpu = self.device.startswith("cuda")
        if not self.settings.llm.threads and not on_gpu:
            self._cores = free_cores()
        threads = self.settings.llm.threads or (self._cores.now() if self._cores else 1)
        self._llama = Llama(
            model_path=str(model_path),
            n_ctx=self.settings.llm.n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=-1 if on_gpu else 0,
            verbose=False,
        )
        self._threads = threads
        log.info(
            "llama.cpp loaded %s (%s threads)",
            model_path.name,
            f"{threads}" if self._cores is None else f"1-{self._cores.cores}, as cores are free",
        )

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
            self._fit_threads()
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
                self._fit_threads()
            usage.prompt_tokens = max(0, self._llama.n_tokens - usage.completion_tokens)

    def _fit_threads(self) -> None:
        """Use as many threads as cores are free now (a no-op with a fixed count)."""
        if self._cores is None or self._llama is None:
            return
        threads = self._cores.now()
        if threads != self._threads:
            import llama_cpp

            llama_cpp.llama_set_n_threads(self._llama.ctx, threads, threads)
            self._threads = threads
