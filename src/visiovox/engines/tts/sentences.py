"""Split text into sentences for synthesis, one unit of progress and cancel each.

Breaks after ``.``, ``!``, ``?`` or ``…`` (with closing quotes or brackets)
followed by space and a capital, digit or opening quote, and at blank lines;
never after a common abbreviation such as "Dr." or "e.g.".
"""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "e.g", "i.e",
        "fig", "inc", "ltd", "co", "corp", "jan", "feb", "mar", "apr", "jun", "jul",
        "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "approx", "dept", "est",
    }
)  # fmt: skip

# Typographic quotes as escapes: \u201c/\u201d double, \u2018/\u2019 single.
_CLOSERS = "\"'\u201d\u2019)\\]"
_OPENERS = "\"'\u201c\u2018(\\["
_BOUNDARY = re.compile(rf"[.!?\u2026][{_CLOSERS}]*(?P<gap>\s+)(?=[{_OPENERS}]?[A-Z0-9])")
_PARAGRAPH = re.compile(r"\n\s*\n")
_LAST_WORD = re.compile(rf"([A-Za-z][A-Za-z.]*)\.[{_CLOSERS}]*$")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, whitespace-normalised, empty ones dropped."""
    sentences: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        start = 0
        for boundary in _BOUNDARY.finditer(paragraph):
            candidate = paragraph[start : boundary.start("gap")]
            last = _LAST_WORD.search(candidate)
            if last and last.group(1).lower() in _ABBREVIATIONS:
                continue
            sentences.append(candidate)
            start = boundary.end("gap")
        sentences.append(paragraph[start:])
    normalised = (" ".join(sentence.split()) for sentence in sentences)
    return [sentence for sentence in normalised if sentence]


class SentenceStream:
    """Text streamed in piece by piece; each sentence handed out once, as soon as it is final.

    The last sentence may still grow; the ones before it ended at a boundary,
    which later text cannot move (a boundary needs the next sentence's start).
    """

    def __init__(self) -> None:
        self.text = ""
        self._handed_out = 0

    def feed(self, piece: str) -> list[str]:
        """Add ``piece``; answers the sentences it completed."""
        self.text += piece
        return self._take(len(split_sentences(self.text)) - 1)

    def rest(self) -> list[str]:
        """The sentences not handed out yet, the last one included (the text has ended)."""
        return self._take(None)

    def _take(self, end: int | None) -> list[str]:
        sentences = split_sentences(self.text)[:end]
        fresh = sentences[self._handed_out :]
        self._handed_out = max(self._handed_out, len(sentences))
        return fresh
