"""Split text into sentences for synthesis, one unit of progress and cancel each.

Breaks after ``.``, ``!``, ``?`` or ``…`` (with closing quotes or brackets)
followed by space and a capital, digit or opening quote, and at blank lines;
never after a common abbreviation such as "Dr." or "e.g.".

A sentence longer than ``max_chars`` (text without sentence punctuation, a
run-on list) is cut into pieces of at most that many characters: after the
last clause mark (``,`` ``;`` ``:`` or a dash) in the second half of the
window, else at its last space, else (one endless word) right at the limit.
Without this bound one request of 4,096 unpunctuated characters was one
sentence: one synthesis call holding gigabytes, and no point to cancel at (the
engine also bounds each call's phonemes, ``engines/tts/piper.py``).
"""

from __future__ import annotations

import re
import unicodedata

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
_CLAUSE_END = re.compile(r"[,;:\u2013\u2014] ")

# Longest piece of text spoken as one sentence (one progress step, one assistant
# sentence file): about 15 s of speech, longer than nearly every real sentence.
MAX_SENTENCE_CHARS = 250


def split_sentences(text: str, *, max_chars: int = MAX_SENTENCE_CHARS) -> list[str]:
    """The sentences of ``text``, whitespace-normalised, empty ones dropped, none
    longer than ``max_chars`` (longer ones are cut into pieces)."""
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
    return [piece for sentence in normalised for piece in _bounded(sentence, max_chars)]


def _bounded(sentence: str, max_chars: int) -> list[str]:
    """``sentence`` in pieces of at most ``max_chars``, cut where a reader would pause.

    Each cut depends only on the ``max_chars + 1`` characters after the previous
    one, so a sentence that is still being streamed keeps its earlier pieces.
    """
    pieces: list[str] = []
    rest = sentence
    while len(rest) > max_chars:
        window = rest[: max_chars + 1]
        clauses = [m.end() - 1 for m in _CLAUSE_END.finditer(window) if m.end() > max_chars // 2]
        cut = clauses[-1] if clauses else window.rfind(" ")
        if cut <= 0:
            cut = max_chars
            # Not between a letter and its combining accent.
            while cut > 1 and unicodedata.category(rest[cut])[0] == "M":
                cut -= 1
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


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
