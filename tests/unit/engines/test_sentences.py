"""Text is cut into sentences at real sentence ends only."""

from __future__ import annotations

import pytest

from visiovox.engines.tts.sentences import SentenceStream, split_sentences


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        (
            "Dr. Smith met Mr. Jones. Then they left.",
            ["Dr. Smith met Mr. Jones.", "Then they left."],
        ),
        ("Cities, e.g. Paris, are big. Yes.", ["Cities, e.g. Paris, are big.", "Yes."]),
        ('He said "Stop." Then he ran.', ['He said "Stop."', "Then he ran."]),
        (
            "\u201cQuoted.\u201d Next\u2026 3 cats.",
            ["\u201cQuoted.\u201d", "Next\u2026", "3 cats."],
        ),
        ("version 1.5 is out. it works", ["version 1.5 is out. it works"]),
        ("First paragraph\n\nsecond paragraph", ["First paragraph", "second paragraph"]),
        ("  spaced \n  out   words  ", ["spaced out words"]),
        ("   ", []),
    ],
)
def test_split(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_a_stream_hands_each_sentence_out_once_when_it_is_final() -> None:
    stream = SentenceStream()
    handed = [stream.feed(piece) for piece in ["Hello there", ". How are", " you? I am", " fine."]]
    assert handed == [[], ["Hello there."], ["How are you?"], []]
    assert stream.rest() == ["I am fine."]
    assert stream.rest() == [] and stream.text == "Hello there. How are you? I am fine."
