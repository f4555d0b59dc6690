"""Redis going away gives clear 503s, and service resumes by itself when it is back."""

from __future__ import annotations

import httpx

from tests.integration.stack import wait_for_job, wait_until


def test_gateway_answers_503_then_recovers(make_stack) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack(workers=1)
    with stack.client() as client:
        first = client.post("/v1/jobs/noop", data={"sleep_s": "0"}).json()["id"]
        assert wait_for_job(client, first)["status"] == "succeeded"

        stack.redis.stop()
        for response in (
            client.get(f"/v1/jobs/{first}"),
            client.post("/v1/jobs/noop", data={"sleep_s": "0"}),
            client.get("/v1/jobs"),
            client.get("/readyz"),
        ):
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] in {"redis_unavailable", "not_ready"}
        assert client.get("/healthz").status_code == 200

        stack.redis.start()

        def submitted() -> str | None:
            response = client.post("/v1/jobs/noop", data={"sleep_s": "0"})
            return str(response.json()["id"]) if response.status_code == 202 else None

        job_id = wait_until(submitted, timeout_s=30, what="gateway to recover")
        assert wait_for_job(client, job_id, timeout_s=60)["status"] == "succeeded", stack.logs()
        assert wait_until(
            lambda: client.get("/readyz").status_code == 200, timeout_s=30, what="ready"
        )


def test_readyz_needs_a_worker(make_stack) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack(workers=0)
    response = httpx.get(f"{stack.base_url}/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["message"]
