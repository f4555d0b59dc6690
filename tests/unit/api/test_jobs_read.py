"""GET one job, list with filters and cursor paging, cancel."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.unit.api.helpers import assert_error
from visiovox.jobs.model import EventType
from visiovox.jobs.redis_client import JobDomain


def submit(client: TestClient, steps: int = 1) -> str:
    response = client.post("/v1/jobs/noop", json={"steps": steps})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_get_returns_the_job_and_404_for_unknown_ids(client: TestClient) -> None:
    job_id = submit(client, steps=4)
    response = client.get(f"/v1/jobs/{job_id}")
    assert response.status_code == 200
    assert response.json()["id"] == job_id
    assert response.json()["params"]["steps"] == 4
    error = assert_error(client.get("/v1/jobs/0123456789abcdef"), 404, "job_not_found")
    assert "0123456789abcdef" in error["message"]


def test_list_pages_newest_first_with_a_cursor(client: TestClient) -> None:
    ids = [submit(client, steps=n) for n in range(1, 8)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/jobs", params=params).json()
        assert set(page) == {"data", "next_cursor"}
        assert len(page["data"]) <= 3
        seen += [job["id"] for job in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    default = client.get("/v1/jobs").json()
    assert [j["id"] for j in default["data"]] == list(reversed(ids))
    assert default["next_cursor"] is None


def test_list_filters_by_status_and_pipeline(client: TestClient) -> None:
    kept, canceled = submit(client), submit(client)
    assert client.delete(f"/v1/jobs/{canceled}").status_code == 202
    by_status = client.get("/v1/jobs", params={"status": "canceled"}).json()["data"]
    assert [j["id"] for j in by_status] == [canceled]
    queued = client.get("/v1/jobs", params={"status": "queued"}).json()["data"]
    assert [j["id"] for j in queued] == [kept]
    assert client.get("/v1/jobs", params={"pipeline": "tts"}).json()["data"] == []
    assert len(client.get("/v1/jobs", params={"pipeline": "noop"}).json()["data"]) == 2


def test_list_rejects_bad_query_values(client: TestClient) -> None:
    for params in ({"limit": 0}, {"limit": 101}, {"status": "sleeping"}):
        error = assert_error(client.get("/v1/jobs", params=params), 422, "invalid_params")
        assert next(iter(params)) in error["message"]
    assert_error(client.get("/v1/jobs", params={"cursor": "abc"}), 422, "invalid_cursor")


def test_cancel_a_queued_job_then_409_when_finished(client: TestClient, domain: JobDomain) -> None:
    job_id = submit(client)
    response = client.delete(f"/v1/jobs/{job_id}")
    assert response.status_code == 202
    assert response.json()["status"] == "canceled"
    assert response.json()["finished_at"] is not None
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "canceled"
    assert [e.type for e in domain.events.read_after(job_id)] == [
        EventType.QUEUED,
        EventType.CANCELED,
    ]
    error = assert_error(client.delete(f"/v1/jobs/{job_id}"), 409, "job_finished")
    assert "canceled" in error["message"]
    assert_error(client.delete("/v1/jobs/feedfacefeedface"), 404, "job_not_found")


def test_cancel_a_running_job_flags_it(client: TestClient, domain: JobDomain) -> None:
    job_id = submit(client)
    assert domain.store.claim(job_id, "w1").outcome.value == "claimed"
    response = client.delete(f"/v1/jobs/{job_id}")
    assert response.status_code == 202
    assert response.json()["status"] == "running"
    assert domain.store.is_cancel_requested(job_id)
