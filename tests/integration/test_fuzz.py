"""Property-based fuzzing of every HTTP operation in the OpenAPI schema (Schemathesis).

A private deployment (real Redis, gateway, one CPU worker) serves its own
``/openapi.json``; for each operation Schemathesis draws EXAMPLES requests,
half that fit the schema and half that break it (derandomized: the same
requests every run), sent with an API key created ``--unlimited``, so the
rate limits never answer in place of the handler. Each request must draw no
5xx (a 503 ``no_capable_worker`` is the documented answer for ``noop-gpu`` on a
fleet with no GPU worker), and each status must be one the schema documents
for that operation, with the content type it documents. Jobs a request creates
are canceled at once, so the one worker never falls behind. WebSocket routes
are not in an OpenAPI schema and the SSE stream is fuzzed like any GET: ids
drawn at random name no job, so it answers at once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from tests.integration.stack import Stack
from visiovox.api.app import create_app
from visiovox.config import load_settings

# Per operation; 29 operations x EXAMPLES requests stay within about 2 minutes on 2 cores.
EXAMPLES = 24
EXPECTED_5XX = {"no_capable_worker"}
# The fuzzing key: no rate limit or quota answers in place of the handler; priority=high allowed.
EXEMPT = ("--unlimited", "--high-priority")
OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in create_app(load_settings()).openapi()["paths"].items()
    for method in item
)


@dataclass(frozen=True)
class Fuzz:
    stack: Stack
    schema: Any
    headers: dict[str, str]


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    stack = Stack(
        tmp_path_factory.mktemp("fuzz"),
        # A short queue: submissions past it answer 429 queue_full, as documented.
        settings={"VISIOVOX_AUTH__ENABLED": "on", "VISIOVOX_SCHEDULER__MAX_QUEUED": "4"},
    )
    try:
        stack.start(owners=("watcher",))  # the stack reads its workers with this key
        key = subprocess.run(
            [sys.executable, "-m", "visiovox", "keys", "create", "--owner", "fuzzer", *EXEMPT],
            env=stack.env,
            cwd=stack.root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[-1]
        schema = schemathesis.openapi.from_url(f"{stack.base_url}/openapi.json")
        yield Fuzz(stack=stack, schema=schema, headers={"Authorization": f"Bearer {key}"})
    finally:
        stack.stop()


def _strategy(operation: Any) -> st.SearchStrategy[Any]:
    """Requests that fit the schema and, where it has anything to break, requests that do not."""
    positive = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    try:
        negative = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    except Exception:  # an operation with nothing to break has no negative strategy
        return positive  # type: ignore[no-any-return]
    return st.one_of(positive, negative)


def _error_code(content: bytes) -> str | None:
    try:
        return str(json.loads(content)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_request_draws_a_server_error(fuzz: Fuzz, method: str, path: str) -> None:
    operation = fuzz.schema[path][method]
    problems: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation))
    def send(case: Any) -> None:
        response = case.call(base_url=fuzz.stack.base_url, headers=fuzz.headers, timeout=60)
        if response.status_code == 202 and path.startswith("/v1/jobs/"):
            job_id = json.loads(response.content)["id"]
            httpx.delete(f"{fuzz.stack.base_url}/v1/jobs/{job_id}", headers=fuzz.headers)
        code = _error_code(response.content)
        if response.status_code >= 500 and code not in EXPECTED_5XX:
            problems.append(f"{response.status_code} {code}: {case.as_curl_command()}")
            return
        try:
            case.validate_response(
                response, checks=[status_code_conformance, content_type_conformance]
            )
        except AssertionError as failure:
            problems.append(f"{response.status_code} {code}: {failure}".splitlines()[0])

    send()
    assert not problems, "\n".join(dict.fromkeys(problems)) + "\n" + fuzz.stack.logs()
