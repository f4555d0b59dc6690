"""The OpenAI-compatible LLM engine against a loopback server: streaming, usage, each failure."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.engines.llm.chat_server import ChatServer, serve_chat
from visiovox.config import Settings, load_settings
from visiovox.engines.llm.base import ChatMessage, Usage
from visiovox.engines.llm.errors import ContextLengthExceeded, LLMServerError
from visiovox.engines.llm.openai_http import OpenAIHttpLLM
from visiovox.engines.pool import EnginePool
from visiovox.errors import PipelineError
from visiovox.pipelines.registry import get_spec
from visiovox.pipelines.testing import LocalContext, run_pipeline

KEY = "sk-test-not-for-logs"
QUESTION = [ChatMessage(role="user", content="What is the capital of France?")]


def _settings(base_url: str, **llm: object) -> Settings:
    return load_settings(
        llm={
            "engine": "llm.openai_http",
            "base_url": base_url,
            "api_key": KEY,
            "remote_model": "test-model",
            "timeout_s": 0.5,
            **llm,
        }
    )


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with serve_chat(ChatServer()) as running:
        yield running


@pytest.fixture
def engine(server: ChatServer) -> Iterator[OpenAIHttpLLM]:
    llm = OpenAIHttpLLM(settings=_settings(server.base_url), device="cpu")
    llm.load()
    yield llm
    llm.close()


def _reply(engine: OpenAIHttpLLM, usage: Usage | None = None) -> str:
    return "".join(engine.chat(QUESTION, max_tokens=20, temperature=0.0, usage=usage))


def test_streams_the_pieces_and_takes_the_servers_usage(
    engine: OpenAIHttpLLM, server: ChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    usage = Usage()
    pieces = list(engine.chat(QUESTION, max_tokens=20, temperature=0.3, usage=usage))
    assert pieces == ["Paris", " is", " the capital", "."]
    assert (usage.prompt_tokens, usage.completion_tokens, usage.finish_reason) == (12, 5, "stop")
    body = server.bodies[0]
    assert body["model"] == "test-model"
    assert body["messages"] == [{"role": "user", "content": "What is the capital of France?"}]
    assert (body["stream"], body["max_tokens"], body["temperature"]) == (True, 20, 0.3)
    assert server.authorizations == [f"Bearer {KEY}"]
    assert KEY not in caplog.text
    assert KEY not in repr(engine.settings)


def test_no_key_sends_no_authorization(server: ChatServer) -> None:
    engine = OpenAIHttpLLM(settings=_settings(server.base_url, api_key=None), device="cpu")
    engine.load()
    assert _reply(engine) == "Paris is the capital."
    assert server.authorizations == [None]


@pytest.mark.parametrize(
    ("behaviour", "status", "code", "words", "before"),
    [
        ("status", 401, "llm_unauthorized", "VISIOVOX_LLM__API_KEY", ""),
        ("status", 403, "llm_unauthorized", "refused the API key (HTTP 403", ""),
        ("status", 404, "llm_model_not_found", "no model 'test-model'", ""),
        ("status", 500, "llm_server_error", "answered HTTP 500: status 500", ""),
        ("drop", 200, "llm_unreachable", "closed before an answer", ""),
        ("drop_mid_stream", 200, "llm_server_error", "cut the reply short", "Paris"),
        ("stall", 200, "llm_timeout", "did not answer for 0.5s", ""),
        ("stall_mid_stream", 200, "llm_timeout", "sent nothing for 0.5s", "Paris"),
        ("error_frame", 200, "llm_server_error", "failed: the GPU fell over", "Paris"),
    ],
)
def test_each_failure_has_its_code(
    engine: OpenAIHttpLLM,
    server: ChatServer,
    behaviour: str,
    status: int,
    code: str,
    words: str,
    before: str,
) -> None:
    server.behaviour, server.status_code = behaviour, status
    received: list[str] = []
    with pytest.raises(LLMServerError) as caught:
        received.extend(engine.chat(QUESTION, max_tokens=20, temperature=0.0))
    assert caught.value.code == code
    assert words in caught.value.message
    assert KEY not in caught.value.message
    # What came before a mid-stream failure was handed over as it arrived.
    assert "".join(received) == before


OPENAI_TOO_LONG = {
    "message": "This model's maximum context length is 4096 tokens. However, your messages "
    "resulted in 5012 tokens. Please reduce the length of the messages.",
    "type": "invalid_request_error",
    "param": "messages",
    "code": "context_length_exceeded",
}
VISIOVOX_TOO_LONG = {
    "code": "context_length_exceeded",
    "message": "the messages are 3012 tokens, over the model's context window of 2048 tokens; "
    "shorten the messages",
    "type": "invalid_request_error",
    "param": "messages",
}


@pytest.mark.parametrize(
    ("error", "prompt", "context"),
    [(OPENAI_TOO_LONG, 5012, 4096), (VISIOVOX_TOO_LONG, 3012, 2048)],
    ids=["openai", "visiovox"],
)
def test_an_upstream_context_length_400_is_context_length_exceeded(
    engine: OpenAIHttpLLM, server: ChatServer, error: dict[str, str], prompt: int, context: int
) -> None:
    server.behaviour, server.status_code, server.error = "status", 400, error
    with pytest.raises(ContextLengthExceeded) as caught:
        _reply(engine)
    assert caught.value.code == "context_length_exceeded"
    assert (caught.value.prompt_tokens, caught.value.context_tokens) == (prompt, context)
    assert caught.value.message == (
        f"the messages are {prompt} tokens, over the model's context window "
        f"of {context} tokens; shorten the messages"
    )


def test_a_context_length_400_without_numbers_keeps_the_servers_words(
    engine: OpenAIHttpLLM, server: ChatServer
) -> None:
    error = {"code": "context_length_exceeded", "message": "prompt too long for this model"}
    server.behaviour, server.status_code, server.error = "status", 400, error
    with pytest.raises(ContextLengthExceeded) as caught:
        _reply(engine)
    assert caught.value.prompt_tokens is None
    assert "prompt too long for this model" in caught.value.message
    assert KEY not in caught.value.message


@pytest.mark.parametrize(
    "error",
    [
        {"code": "invalid_value", "message": "temperature is out of range"},
        # vLLM puts the status in ``code`` and says "maximum context length" in words only.
        {"code": 400, "message": "This model's maximum context length is 2048 tokens."},
    ],
    ids=["other-code", "numeric-code"],
)
def test_other_400s_stay_llm_server_error(
    engine: OpenAIHttpLLM, server: ChatServer, error: dict[str, object]
) -> None:
    server.behaviour, server.status_code, server.error = "status", 400, error
    with pytest.raises(LLMServerError) as caught:
        _reply(engine)
    assert caught.value.code == "llm_server_error"
    assert "answered HTTP 400" in caught.value.message


def test_connection_refused() -> None:
    with serve_chat(ChatServer()) as stopped:
        url = stopped.base_url
    engine = OpenAIHttpLLM(settings=_settings(url), device="cpu")
    engine.load()
    with pytest.raises(LLMServerError) as caught:
        _reply(engine)
    assert caught.value.code == "llm_unreachable"
    assert (
        caught.value.message
        == f"cannot reach the LLM server at {url}/chat/completions: connection refused"
    )


def test_the_chat_pipeline_uses_the_configured_engine(server: ChatServer, tmp_path: Path) -> None:
    pool = EnginePool(settings=_settings(server.base_url), device="cpu")
    try:
        ctx = LocalContext(root=tmp_path / "job", pool=pool)
        result = run_pipeline(
            get_spec("chat"), {"messages": [{"role": "user", "content": "Hi"}]}, ctx
        )
        assert result is not None
        assert result["text"] == "Paris is the capital."
        assert result["usage"] == {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
        tokens = [event.data["token"] for event in ctx.events if "token" in event.data]
        assert tokens == ["Paris", " is", " the capital", "."]
        assert [stats.name for stats in pool.stats()] == ["llm.openai_http"]

        server.behaviour, server.status_code = "status", 401
        failing = LocalContext(root=tmp_path / "job2", pool=pool)
        with pytest.raises(PipelineError) as caught:
            run_pipeline(
                get_spec("chat"), {"messages": [{"role": "user", "content": "Hi"}]}, failing
            )
        assert caught.value.code == "llm_unauthorized"
    finally:
        pool.close()
