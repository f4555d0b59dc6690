"""``/metrics`` with two gateway processes: every process reports the sum over both."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.stack import Stack

SUBMISSIONS = 12


def submissions_counted(base_url: str) -> float:
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "visiovox_http_requests_total"
        and sample.labels["route"] == "/v1/jobs/{pipeline}"
        and sample.labels["status"] == "202"
    )


def test_request_counts_add_up_across_gateway_processes(make_stack) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack(workers=0, settings={"VISIOVOX_GATEWAY__PROCESSES": "2"})
    for _ in range(SUBMISSIONS):
        # A new connection each time, so both processes take some.
        response = httpx.post(f"{stack.base_url}/v1/jobs/noop", json={"sleep_s": 0}, timeout=10)
        assert response.status_code == 202
    counts = {submissions_counted(stack.base_url) for _ in range(8)}
    assert counts == {SUBMISSIONS}, stack.logs()


def test_metrics_ask_for_an_api_key_when_auth_is_on(stack: Stack) -> None:
    assert httpx.get(f"{stack.base_url}/metrics", timeout=5).status_code == 401
    with stack.client("alice") as client:
        assert client.get("/metrics").status_code == 200


def test_a_metrics_token_is_the_one_credential_of_metrics(make_stack) -> None:  # type: ignore[no-untyped-def]
    token = "scrape-" + "x" * 32
    stack = make_stack(
        workers=0,
        settings={"VISIOVOX_AUTH__ENABLED": "on", "VISIOVOX_GATEWAY__METRICS_TOKEN": token},
    )
    url = f"{stack.base_url}/metrics"
    key = stack.create_key("alice")
    for headers in ({}, {"Authorization": f"Bearer {key}"}, {"Authorization": "Bearer wrong"}):
        response = httpx.get(url, headers=headers, timeout=5)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthorized"
    response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert response.status_code == 200
    assert "visiovox_http_requests_total" in response.text
