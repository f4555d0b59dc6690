"""Text params of the speaking pipelines lose invisible characters; nothing speakable is refused."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from visiovox.config import SPEECH_MAX_CHARS, TTSSettings
from visiovox.pipelines.talking_avatar.spec import TalkingAvatarParams
from visiovox.pipelines.tts.spec import TTSParams

# Right-to-left override, zero-width space, byte-order mark: category Cf, no sound.
INVISIBLE = "\u202e\u200b\ufeff"
EMOJI_BOMB = (INVISIBLE + "\U0001f600") * 500


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


@pytest.mark.parametrize("params", [TTSParams, TalkingAvatarParams])
def test_the_text_limit_is_the_one_the_worker_checks(params: type[BaseModel]) -> None:
    assert TTSSettings().max_chars == SPEECH_MAX_CHARS
    params.model_validate({"text": "a" * SPEECH_MAX_CHARS})
    with pytest.raises(ValidationError):
        params.model_validate({"text": "a" * (SPEECH_MAX_CHARS + 1)})
