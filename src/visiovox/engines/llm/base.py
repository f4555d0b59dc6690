"""The language-model interface: chat messages in, a stream of text pieces out.

Imports nothing heavy, so pipelines can import it inside ``run`` for free.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, TypedDict

from visiovox.engines.base import Engine

Role = Literal["system", "user", "assistant"]


class ChatMessage(TypedDict):
    """One turn of a conversation, as OpenAI's chat API spells it."""

    role: Role
    content: str


@dataclass
class Usage:
    """Tokens read and written by one generation; filled in as the stream is consumed."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_json(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


class LLMEngine(Engine):
    """Generates a reply to a conversation, piece by piece."""

    @abc.abstractmethod
    def chat(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        usage: Usage | None = None,
    ) -> Iterator[str]:
        """Yield the reply's text as it is generated; ``usage`` is filled in by the end."""
