"""What text-to-speech may speak: invisible characters stripped, speakable text required.

*Unspeakable* characters are removed before synthesis: Unicode format
characters (category Cf: bidi overrides such as U+202E, zero-width spaces and
joiners, U+FEFF, tag characters), control characters other than whitespace
(Cc), surrogates (Cs), private-use (Co) and unassigned code points (Cn). None
has a sound, and espeak turns some into long phoneme runs or noise.

Text is *speakable* when, after stripping, at least one letter or digit
(category L* or N*) remains. Emoji, symbols and punctuation alone are not
speakable (espeak would read an emoji's name, "grinning face", hundreds of
times over), so such text is refused at submission with 422
``no_speakable_text``.

Light on purpose: the gateway imports it for the params of ``tts`` and
``talking-avatar``, the Piper engine to clean every text it is handed (so it
lives here, below both, rather than in ``pipelines/``).
"""

from __future__ import annotations

import unicodedata

from visiovox.errors import param_error

NO_SPEAKABLE_TEXT = "no_speakable_text"
_UNSPEAKABLE = frozenset({"Cf", "Cc", "Cs", "Co", "Cn"})


def strip_unspeakable(text: str) -> str:
    """``text`` without its unspeakable characters (tabs and newlines are kept)."""
    kept: list[str] = []
    for char in text:
        # Whitespace controls stay: a blank line still ends a paragraph.
        if unicodedata.category(char) not in _UNSPEAKABLE or char.isspace():
            kept.append(char)
    return "".join(kept)


def is_speakable(text: str) -> bool:
    """Whether ``text`` holds at least one letter or digit."""
    return any(unicodedata.category(char)[0] in "LN" for char in text)


def speakable_text(text: str) -> str:
    """``text`` stripped of unspeakable characters and outer whitespace, for a params model.

    Raises the params error ``no_speakable_text`` (422 at the gateway) when no
    letter or digit remains.
    """
    cleaned = strip_unspeakable(text).strip()
    if not is_speakable(cleaned):
        raise param_error(
            NO_SPEAKABLE_TEXT,
            "the text has no letter or digit to speak once invisible characters are removed",
        )
    return cleaned
