"""``/metrics`` with two gateway processes: every process reports the sum over both."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

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
