"""Voice names every text-to-speech engine understands besides its own."""

from __future__ import annotations

# OpenAI's voice names: clients written for OpenAI send them; they speak in tts.voice.
OPENAI_VOICES = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"}
)
