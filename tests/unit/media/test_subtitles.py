"""SRT and WebVTT come out in the exact shape players expect."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from visiovox.media.subtitles import format_timestamp, to_srt, to_text, to_vtt


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


CUES = [Cue(0.0, 2.5, " Hello there. "), Cue(2.5, 3661.0396, "How are you?"), Cue(4.0, 5.0, "  ")]


@pytest.mark.parametrize(
    ("seconds", "srt", "vtt"),
    [
        (0.0, "00:00:00,000", "00:00:00.000"),
        (1.9996, "00:00:02,000", "00:00:02.000"),
        (61.25, "00:01:01,250", "00:01:01.250"),
        (3661.0396, "01:01:01,040", "01:01:01.040"),
        (360_000.0, "100:00:00,000", "100:00:00.000"),
        (-0.3, "00:00:00,000", "00:00:00.000"),
    ],
)
def test_timestamps(seconds: float, srt: str, vtt: str) -> None:
    assert format_timestamp(seconds, decimal=",") == srt
    assert format_timestamp(seconds, decimal=".") == vtt


def test_srt() -> None:
    assert to_srt(CUES) == (
        "1\n00:00:00,000 --> 00:00:02,500\nHello there.\n"
        "\n"
        "2\n00:00:02,500 --> 01:01:01,040\nHow are you?\n"
    )


def test_vtt() -> None:
    assert to_vtt(CUES) == (
        "WEBVTT\n"
        "\n"
        "00:00:00.000 --> 00:00:02.500\nHello there.\n"
        "\n"
        "00:00:02.500 --> 01:01:01.040\nHow are you?\n"
    )


def test_vtt_payload_cannot_hold_an_arrow() -> None:
    assert "a -> b" in to_vtt([Cue(0, 1, "a --> b")])


def test_blank_lines_inside_a_cue_are_dropped() -> None:
    assert to_srt([Cue(0, 1, "one\n\ntwo")]) == "1\n00:00:00,000 --> 00:00:01,000\none\ntwo\n"


def test_text_and_empty() -> None:
    assert to_text(CUES) == "Hello there. How are you?\n"
    assert to_text([]) == ""
    assert to_srt([]) == ""
    assert to_vtt([]) == "WEBVTT\n"
