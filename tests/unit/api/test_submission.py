"""One door for every job: the facades and assistant turns check conditional inputs too.

``POST /v1/jobs`` always refused a job whose params call for a file that was not
sent (422 ``missing_input``); the OpenAI facades and assistant turns skipped the
check while they had a submit path of their own. The ``assistant`` pipeline's
audio is required when there is no ``text``: a turn with neither is refused at
submission instead of failing on a worker.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.helpers import assert_error
from visiovox.api.errors import ApiError
from visiovox.api.security import Caller
from visiovox.api.submission import Submissions
from visiovox.jobs.queues import Priority


def test_an_assistant_turn_checks_conditional_inputs(client: TestClient) -> None:
    session = client.post("/v1/assistant/sessions").json()["id"]
    turns = f"/v1/assistant/sessions/{session}/turns"
    error = assert_error(client.post(turns, data={}), 422, "missing_input")
    assert "audio" in error["message"] and "text" in error["message"]
    # (An accepted turn is not sent here: the test client would wait for its background
    # task, which follows the job to an end that no worker brings in these tests.)


def test_the_facades_path_checks_conditional_inputs(client: TestClient) -> None:
    # The OpenAI facades submit as turns do: through Submissions with a fixed priority.
    submissions: Submissions = client.app.state.gateway.submissions  # type: ignore[attr-defined]
    assert client.portal is not None

    async def submit(params: dict[str, str]) -> str:
        intake = submissions.intake("assistant")
        job, _ = await submissions.submit(
            intake, caller=Caller(owner="anonymous"), params=params, priority=Priority.HIGH
        )
        return job.priority.value

    with pytest.raises(ApiError) as refused:
        client.portal.call(submit, {})
    assert (refused.value.status, refused.value.code) == (422, "missing_input")
    assert client.portal.call(submit, {"text": "Hello."}) == "high"
