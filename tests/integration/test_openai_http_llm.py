"""A worker whose LLM is another VisioVox, reached as an OpenAI-compatible server.

The upstream is the session stack (llama.cpp with the bundled SmolLM2); the
downstream stack runs ``llm.engine=llm.openai_http`` pointed at the upstream's
``/v1`` with alice's key. Greedy decoding makes both answers the same text, so
the stream relayed through two deployments must equal the upstream's own reply.
"""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.integration.stack import Stack, wait_for_job, wait_until

QUESTION = [
    {"role": "system", "content": "You are a helpful assistant. Answer in one short sentence."},
    {"role": "user", "content": "What is the capital of France?"},
]


@pytest.fixture(scope="module")
def downstream(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    deployment = Stack(
        tmp_path_factory.mktemp("downstream"),
        settings={
            "VISIOVOX_LLM__ENGINE": "llm.openai_http",
            "VISIOVOX_LLM__BASE_URL": f"{stack.base_url}/v1",
            "VISIOVOX_LLM__API_KEY": stack.api_keys["alice"],
            "VISIOVOX_LLM__REMOTE_MODEL": "smollm2-135m-instruct",
            "VISIOVOX_LLM__TIMEOUT_S": "30",
        },
    )
    try:
        yield deployment.start()
    finally:
        deployment.stop()


def _client(deployment: Stack, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{deployment.base_url}/v1", api_key=key, max_retries=0)


def test_chat_streams_through_the_upstream(stack: Stack, downstream: Stack) -> None:
    upstream = _client(stack, stack.api_keys["alice"])
    direct = upstream.chat.completions.create(
        model="smollm2",
        messages=QUESTION,
        max_tokens=24,
        temperature=0,  # type: ignore[arg-type]
    )
    stream = _client(downstream).chat.completions.create(
        model="smollm2",
        messages=QUESTION,  # type: ignore[arg-type]
        max_tokens=24,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert len(pieces) > 3  # streamed piece by piece, not in one block
    assert "".join(pieces) == direct.choices[0].message.content
    assert "Paris" in "".join(pieces)
    usage = chunks[-1].usage
    assert direct.usage is not None and usage is not None
    # The upstream's own token counts, carried through both deployments.
    assert (usage.prompt_tokens, usage.completion_tokens) == (
        direct.usage.prompt_tokens,
        direct.usage.completion_tokens,
    )
    worker = downstream.worker_info("w1")
    assert worker is not None
    assert {e["name"] for e in worker["engines"] if e["loaded"]} == {"llm.openai_http"}


def test_assistant_turn_uses_the_configured_llm(downstream: Stack) -> None:
    with downstream.client() as client:
        session_id = client.post("/v1/assistant/sessions").json()["id"]
        accepted = client.post(
            f"/v1/assistant/sessions/{session_id}/turns",
            data={"text": "What is the capital of France?", "max_tokens": "24"},
        )
        assert accepted.status_code == 202, accepted.text
        job = wait_for_job(client, accepted.json()["id"])
        assert job["status"] == "succeeded", job
        assert "Paris" in job["result"]["text"]
        assert job["result"]["usage"]["prompt_tokens"] > 0
    worker = downstream.worker_info("w1")
    assert worker is not None
    assert "llm.openai_http" in {e["name"] for e in worker["engines"] if e["loaded"]}


def test_the_upstreams_context_length_400_is_the_callers_400(downstream: Stack) -> None:
    """The upstream refuses the messages as too long: OpenAI's 400, not a 502 server error."""
    too_long = [{"role": "user", "content": "hello world " * 1_500}]
    with pytest.raises(openai.BadRequestError) as caught:
        _client(downstream).chat.completions.create(
            model="smollm2",
            messages=too_long,  # type: ignore[arg-type]
            max_tokens=8,
        )
    error = caught.value.body
    assert isinstance(error, dict) and error["code"] == "context_length_exceeded", error
    assert (error["type"], error["param"]) == ("invalid_request_error", "messages")
    assert "over the model's context window of 2048 tokens" in error["message"]


def test_a_refused_key_fails_the_job_and_the_worker_carries_on(downstream: Stack) -> None:
    downstream.kill_worker("w1")
    downstream.env["VISIOVOX_LLM__API_KEY"] = "not-alices-key"
    downstream.start_worker("w2")
    client = _client(downstream)
    for _ in range(2):
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(
                model="smollm2",
                messages=QUESTION,
                max_tokens=8,  # type: ignore[arg-type]
            )
        assert caught.value.status_code == 502  # the upstream refused the worker's key
        error = caught.value.body
        assert isinstance(error, dict) and error["code"] == "llm_unauthorized", error
        assert "VISIOVOX_LLM__API_KEY" in error["message"]
        assert "not-alices-key" not in error["message"]
    wait_until(lambda: downstream.worker_info("w2", states=("ready",)), timeout_s=10, what="w2")
    assert "not-alices-key" not in downstream.logs()
