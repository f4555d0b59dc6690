"""Which characters are spoken: invisible ones are stripped; a letter or a digit must stay."""

from __future__ import annotations

import pytest

from visiovox.media.speakable import is_speakable, strip_unspeakable

# Right-to-left override, zero-width space, byte-order mark: category Cf, no sound.
INVISIBLE = "\u202e\u200b\ufeff"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"He{INVISIBLE}llo", "Hello"),
        ("soft\u00adhyphen, zero\u200dwidth joiner", "softhyphen, zerowidth joiner"),
        ("tag\U000e0041s and private \ue000use", "tags and private use"),
        ("bell\x07 and null\x00", "bell and null"),
        ("lines\nand\ttabs\n\nstay", "lines\nand\ttabs\n\nstay"),
        (
            "caf\u00e9 \u0639\u0631\u0628\u064a 123 \U0001f600",
            "caf\u00e9 \u0639\u0631\u0628\u064a 123 \U0001f600",
        ),
    ],
)
def test_unspeakable_characters_are_stripped(text: str, kept: str) -> None:
    assert strip_unspeakable(text) == kept


@pytest.mark.parametrize(
    ("text", "speakable"),
    [
        ("a", True),
        ("7", True),
        ("\u00e9", True),
        ("\u4e2d", True),
        ("\U0001f600 \u2764 !?", False),
        ("", False),
    ],
)
def test_speakable_means_a_letter_or_a_digit(text: str, speakable: bool) -> None:
    assert is_speakable(text) is speakable
