"""The OpenAI-compatible facades, driven by the official ``openai`` client against a real stack."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openai
import pytest

from tests.integration.stack import Stack
from tests.wer import SPOKEN_SENTENCE, word_error_rate
from visiovox.media.audio import decode_audio

SENTENCE = SPOKEN_SENTENCE
QUESTION = [
    {"role": "system", "content": "You are a helpful assistant. Answer in one short sentence."},
    {"role": "user", "content": "What is the capital of France?"},
]
# response_format -> what its first bytes must be (pcm has no header).
MAGIC: dict[str, tuple[bytes, ...]] = {
    "wav": (b"RIFF",),
    "mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
    "opus": (b"OggS",),
    "flac": (b"fLaC",),
    "aac": (b"\xff\xf1", b"\xff\xf9"),
    "pcm": (),
}


@pytest.fixture(scope="module")
def client(stack: Stack) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{stack.base_url}/v1", api_key=stack.api_keys["alice"], max_retries=0
    )


@pytest.mark.parametrize("fmt", sorted(MAGIC))
def test_speech_in_every_format(client: openai.OpenAI, tmp_path: Path, fmt: str) -> None:
    response = client.audio.speech.create(
        model="tts-1",
        voice="alloy",
        input="Hello there.",
        response_format=fmt,  # type: ignore[arg-type]
    )
    audio = response.read()
    assert audio.startswith(MAGIC[fmt]) if MAGIC[fmt] else len(audio) % 2 == 0
    if fmt == "pcm":
        samples = np.frombuffer(audio, dtype="<i2")
        assert 0.3 < len(samples) / 22_050 < 3.0
        return
    path = tmp_path / f"speech.{fmt}"
    path.write_bytes(audio)
    assert 0.3 < len(decode_audio(path)) / 16_000 < 3.0


def test_spoken_sentence_is_transcribed_back(client: openai.OpenAI, tmp_path: Path) -> None:
    speech = client.audio.speech.create(
        model="tts-1", voice="joe", input=SENTENCE, response_format="mp3"
    )
    path = tmp_path / "sentence.mp3"
    path.write_bytes(speech.read())
    with path.open("rb") as audio:
        plain = client.audio.transcriptions.create(model="whisper-1", file=audio, language="en")
    assert word_error_rate(SENTENCE, plain.text) <= 0.10, plain.text
    with path.open("rb") as audio:
        verbose = client.audio.transcriptions.create(
            model="whisper-1",
            file=audio,
            response_format="verbose_json",
            timestamp_granularities=["word"],
        )
    assert verbose.language == "en"
    assert verbose.words and verbose.words[0].word.strip().lower() == "the"
    with path.open("rb") as audio:
        srt = client.audio.transcriptions.create(
            model="whisper-1", file=audio, response_format="srt"
        )
    assert str(srt).startswith("1\n00:00:00,")


def test_chat_completion(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="smollm2",
        messages=QUESTION,
        max_tokens=32,
        temperature=0,  # type: ignore[arg-type]
    )
    text = completion.choices[0].message.content or ""
    assert "Paris" in text
    assert completion.usage is not None and 0 < completion.usage.completion_tokens <= 32


def test_chat_completion_streams(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="smollm2",
        messages=QUESTION,  # type: ignore[arg-type]
        max_tokens=32,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert len(pieces) > 3 and "Paris" in "".join(pieces)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == len(pieces)


def test_errors_raise_api_status_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as unknown:
        client.audio.speech.create(model="tts-1", voice="nobody", input="Hi.")
    assert isinstance(unknown.value.body, dict) and unknown.value.body["code"] == "unknown_voice"
    assert "joe, lessac" in unknown.value.body["message"]
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="smollm2", messages=[])
    assert caught.value.status_code == 422
    anonymous = openai.OpenAI(base_url=client.base_url, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        anonymous.chat.completions.create(model="smollm2", messages=QUESTION)  # type: ignore[arg-type]
