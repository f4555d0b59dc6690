"""The chat pipeline with SmolLM2-135M on llama.cpp, run in-process."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from visiovox.jobs.model import EventType
from visiovox.pipelines.chat.spec import SPEC, ChatParams
from visiovox.pipelines.testing import LocalContext, run_pipeline

QUESTION = [
    {"role": "system", "content": "You are a helpful assistant. Answer in one short sentence."},
    {"role": "user", "content": "What is the capital of France?"},
]


def test_streams_tokens_and_returns_text_and_usage(ctx: LocalContext) -> None:
    result = run_pipeline(SPEC, {"messages": QUESTION, "max_tokens": 32}, ctx)
    assert result is not None
    tokens = [event["token"] for event in ctx.of_type(EventType.LOG) if "token" in event]
    assert tokens and "".join(tokens) == result["text"]
    assert "Paris" in result["text"]
    usage = result["usage"]
    assert usage["completion_tokens"] == len(tokens) <= 32
    assert usage["prompt_tokens"] > 10
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert result["finish_reason"] == "stop"


def test_max_tokens_cuts_the_reply(ctx: LocalContext) -> None:
    messages = [{"role": "user", "content": "Write a long story about a dragon."}]
    result = run_pipeline(SPEC, {"messages": messages, "max_tokens": 5, "stream": False}, ctx)
    assert result is not None
    assert result["usage"]["completion_tokens"] == 5
    assert result["finish_reason"] == "length"
    assert not [event for event in ctx.of_type(EventType.LOG) if "token" in event]


@pytest.mark.parametrize(
    "params",
    [
        {"messages": []},
        {"messages": [{"role": "robot", "content": "hi"}]},
        {"messages": QUESTION, "max_tokens": 0},
        {"messages": QUESTION, "temperature": 3},
    ],
)
def test_rejects_bad_params(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ChatParams.model_validate(params)
