"""Write timed text as SubRip (SRT), WebVTT or plain text.

Takes anything with ``start``, ``end`` (seconds) and ``text``, so transcripts
from any engine (and the gateway, which never imports engines) can use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class TimedText(Protocol):
    """One cue: a span of seconds and its text."""

    @property
    def start(self) -> float: ...

    @property
    def end(self) -> float: ...

    @property
    def text(self) -> str: ...


def format_timestamp(seconds: float, *, decimal: str) -> str:
    """``HH:MM:SS<decimal>mmm``; SRT uses ``,`` and WebVTT ``.``. Hours may exceed 99."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def to_srt(cues: Iterable[TimedText]) -> str:
    """SubRip text: numbered blocks from 1, ``-->`` between times, blank line between."""
    blocks = []
    for index, cue in enumerate(_spoken(cues), start=1):
        blocks.append(f"{index}\n{_span(cue, decimal=',')}\n{_cue_text(cue.text)}\n")
    return "\n".join(blocks)


def to_vtt(cues: Iterable[TimedText]) -> str:
    """WebVTT text: the ``WEBVTT`` header, then one block per cue."""
    blocks = ["WEBVTT\n"]
    for cue in _spoken(cues):
        # "-->" cannot appear in a WebVTT cue payload.
        blocks.append(f"{_span(cue, decimal='.')}\n{_cue_text(cue.text).replace('-->', '->')}\n")
    return "\n".join(blocks)


def to_text(cues: Iterable[TimedText]) -> str:
    """The cues' text joined by spaces, with a final newline when not empty."""
    text = " ".join(cue.text.strip() for cue in _spoken(cues))
    return f"{text}\n" if text else ""


def _span(cue: TimedText, *, decimal: str) -> str:
    start = format_timestamp(cue.start, decimal=decimal)
    return f"{start} --> {format_timestamp(max(cue.start, cue.end), decimal=decimal)}"


def _spoken(cues: Iterable[TimedText]) -> list[TimedText]:
    return [cue for cue in cues if cue.text.strip()]


def _cue_text(text: str) -> str:
    # A blank line would end the cue early in both formats.
    lines = [line.strip() for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if line)
