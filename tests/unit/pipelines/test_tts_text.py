"""Invisible characters are stripped before synthesis; text with nothing speakable is refused."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from visiovox.media.speakable import is_speakable, strip_unspeakable
from visiovox.pipelines.talking_avatar import TalkingAvatarParams
from visiovox.pipelines.tts import TTSParams

# Right-to-left override, zero-width space, byte-order mark: category Cf, no sound.
INVISIBLE = "\u202e\u200b\ufeff"
EMOJI_BOMB = (INVISIBLE + "\U0001f600") * 500


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


@pytest.mark.parametrize("params", [TTSParams, TalkingAvatarParams])
@pytest.mark.parametrize("text", [INVISIBLE * 10, EMOJI_BOMB, f"{INVISIBLE} \U0001f600 ... !"])
def test_text_with_nothing_speakable_is_refused_with_its_own_code(
    params: type[BaseModel], text: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        params.model_validate({"text": text})
    (error,) = caught.value.errors()
    assert error["type"] == "code:no_speakable_text"


@pytest.mark.parametrize("params", [TTSParams, TalkingAvatarParams])
def test_params_keep_the_text_without_its_invisible_characters(params: type[BaseModel]) -> None:
    validated = params.model_validate({"text": f"{INVISIBLE} a{EMOJI_BOMB} "})
    assert validated.model_dump()["text"] == "a" + "\U0001f600" * 500


def test_a_talking_avatar_without_text_still_validates() -> None:
    assert TalkingAvatarParams.model_validate({}).text is None
    assert TalkingAvatarParams.model_validate({"text": "  "}).text is None
