"""What a live pipeline talks to: the client's messages in, messages and audio out.

The worker backs it with the session's two capped Redis streams
(``worker/live_link.py``), the test harness with memory
(``pipelines/testing.py``). Imports nothing heavy: the gateway imports
pipeline specs, which import this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class LiveInput:
    """One message from the client: binary ``audio`` or a JSON ``command``."""

    audio: bytes | None = None
    command: dict[str, Any] | None = None


class LiveLink(Protocol):
    """A live session's connection to its client, through whichever gateway holds it."""

    @property
    def dropped(self) -> int:
        """Client messages lost so far to the input stream's cap (drop-oldest)."""

    def receive(self, *, timeout_s: float) -> list[LiveInput]:
        """What arrived, oldest first; waits up to ``timeout_s`` when nothing has (0: never)."""

    def send(self, message: dict[str, Any]) -> None:
        """Send a JSON message to the client."""

    def send_audio(self, data: bytes) -> None:
        """Send a binary message to the client."""

    def remember(self, session_id: str, messages: list[dict[str, str]]) -> None:
        """Append ``messages`` to the session's history, if the session still exists."""
