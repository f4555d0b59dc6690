"""GET /v1/jobs/{id}/files/{name}: owner check, known outputs only, byte ranges."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.helpers import assert_error
from visiovox.api.routes.files import RangeNotSatisfiable, parse_range
from visiovox.jobs.model import JobStatus, OutputFile
from visiovox.jobs.redis_client import JobDomain

CONTENT = bytes(range(256)) * 4  # 1024 bytes, each position distinct enough


def finished_job(client: TestClient, domain: JobDomain) -> str:
    """A job finished through the store with one output on disk, as a worker would."""
    job_id = str(client.post("/v1/jobs/noop", json={}).json()["id"])
    assert domain.store.claim(job_id, "w1").outcome.value == "claimed"
    path = domain.files.local_output_path(job_id, "speech.wav")
    assert path is not None
    path.parent.mkdir(parents=True)
    path.write_bytes(CONTENT)
    output = OutputFile(name="speech.wav", content_type="audio/wav", size=len(CONTENT))
    assert domain.store.finish(job_id, worker="w1", status=JobStatus.SUCCEEDED, outputs=[output])
    return job_id


def test_the_job_lists_its_outputs_with_urls(client: TestClient, domain: JobDomain) -> None:
    job_id = finished_job(client, domain)
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded"
    assert job["outputs"] == [
        {
            "name": "speech.wav",
            "content_type": "audio/wav",
            "size": len(CONTENT),
            "url": f"/v1/jobs/{job_id}/files/speech.wav",
        }
    ]


def test_a_whole_file_download(client: TestClient, domain: JobDomain) -> None:
    job_id = finished_job(client, domain)
    response = client.get(f"/v1/jobs/{job_id}/files/speech.wav")
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(CONTENT))
    assert response.headers["content-disposition"] == 'attachment; filename="speech.wav"'


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-9", 0, 10), ("bytes=1000-", 1000, 1024), ("bytes=-24", 1000, 1024),
     ("bytes=100-5000", 100, 1024), ("bytes=-5000", 0, 1024)],
)  # fmt: skip
def test_range_requests_get_206(
    client: TestClient, domain: JobDomain, header: str, start: int, end: int
) -> None:
    job_id = finished_job(client, domain)
    response = client.get(f"/v1/jobs/{job_id}/files/speech.wav", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == CONTENT[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{len(CONTENT)}"
    assert response.headers["content-length"] == str(end - start)


def test_unsatisfiable_ranges_are_416_and_bad_ones_are_ignored(
    client: TestClient, domain: JobDomain
) -> None:
    job_id = finished_job(client, domain)
    url = f"/v1/jobs/{job_id}/files/speech.wav"
    for header in ("bytes=1024-", "bytes=5000-6000", "bytes=-0"):
        response = client.get(url, headers={"Range": header})
        assert_error(response, 416, "range_not_satisfiable")
        assert response.headers["content-range"] == "bytes */1024"
    for header in ("bytes=abc", "items=0-5", "bytes=9-3", "bytes=0-1,5-6"):
        response = client.get(url, headers={"Range": header})
        assert response.status_code == 200, header
        assert response.content == CONTENT


def test_unknown_names_and_missing_files_are_404(client: TestClient, domain: JobDomain) -> None:
    job_id = finished_job(client, domain)
    assert_error(client.get(f"/v1/jobs/{job_id}/files/other.wav"), 404, "file_not_found")
    assert_error(client.get(f"/v1/jobs/{job_id}/files/..%2Fin"), 404, "not_found")
    assert_error(client.get("/v1/jobs/nope/files/speech.wav"), 404, "job_not_found")
    domain.files.delete_outputs(job_id)
    assert_error(client.get(f"/v1/jobs/{job_id}/files/speech.wav"), 404, "file_not_found")


def test_parse_range() -> None:
    assert parse_range(None, 10) is None
    assert parse_range("bytes=2-4", 10) == (2, 5)
    assert parse_range(" bytes = 7 - ", 10) == (7, 10)
    assert parse_range("bytes=-3", 10) == (7, 10)
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=0-", 0)
