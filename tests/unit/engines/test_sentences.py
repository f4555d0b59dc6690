"""Text is cut into sentences at real sentence ends only."""

from __future__ import annotations

import pytest

from visiovox.engines.tts.sentences import MAX_SENTENCE_CHARS, SentenceStream, split_sentences


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


UNPUNCTUATED = " ".join(["word", "another", "longer", "sentence", "without", "any", "stops"] * 90)


def test_a_run_without_punctuation_is_cut_at_spaces_into_bounded_pieces() -> None:
    assert len(UNPUNCTUATED) > 4 * MAX_SENTENCE_CHARS
    pieces = split_sentences(UNPUNCTUATED)
    assert len(pieces) > 4
    assert all(len(piece) <= MAX_SENTENCE_CHARS for piece in pieces)
    assert " ".join(pieces) == UNPUNCTUATED  # no word lost or broken


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        # A clause mark in the window's second half wins over its last space.
        ("one two, three four five", ["one two,", "three four", "five"]),
        ("one two three four; five", ["one two", "three four;", "five"]),
        # No space at all: cut at the limit, never between a letter and its accent.
        ("x" * 25, ["x" * 12, "x" * 12, "x"]),
        ("abcdefghijkl\u0301xyz", ["abcdefghijk", "l\u0301xyz"]),
        ("short", ["short"]),
    ],
)
def test_long_sentences_are_cut_where_a_reader_would_pause(text: str, pieces: list[str]) -> None:
    assert split_sentences(text, max_chars=12) == pieces


def test_a_stream_hands_out_the_pieces_of_a_long_sentence_once_each_is_final() -> None:
    stream = SentenceStream()
    handed = [
        piece
        for start in range(0, len(UNPUNCTUATED), 37)
        for piece in stream.feed(UNPUNCTUATED[start : start + 37])
    ]
    handed += stream.rest()
    assert handed == split_sentences(UNPUNCTUATED)
