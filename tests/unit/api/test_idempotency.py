"""Idempotency keys: scoped to their owner, replayed only for the same request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.conftest import SettingsFactory
from tests.unit.api.helpers import assert_error, wav_bytes
from visiovox.api.app import create_app
from visiovox.jobs.apikeys import ApiKeyStore
from visiovox.jobs.redis_client import build_domain
from visiovox.pipelines.spec import PipelineSpec


@pytest.fixture
def owners(
    make_settings: SettingsFactory,
) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """A gateway with auth on and keys for owners whose names collide in a naive key."""
    settings = make_settings(auth={"enabled": "on"})
    domain = build_domain(settings)
    keys = ApiKeyStore(domain.redis, keys=domain.keys)
    headers = {owner: {"Authorization": f"Bearer {keys.create(owner)}"} for owner in ("a", "a:b")}
    with TestClient(create_app(settings)) as test_client:
        yield test_client, headers


def test_a_key_never_reaches_another_owners_job(
    owners: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = owners
    mine = client.post(
        "/v1/jobs/noop", json={"steps": 3}, headers={**headers["a"], "Idempotency-Key": "b:k2"}
    )
    theirs = client.post(
        "/v1/jobs/noop", json={"steps": 3}, headers={**headers["a:b"], "Idempotency-Key": "k2"}
    )
    assert mine.status_code == theirs.status_code == 202
    assert theirs.json()["id"] != mine.json()["id"]
    assert "idempotent-replayed" not in theirs.headers


def test_the_same_key_for_another_request_is_a_conflict(client: TestClient) -> None:
    headers = {"Idempotency-Key": "order-7"}
    first = client.post("/v1/jobs/noop", json={"steps": 2}, headers=headers)
    assert first.status_code == 202
    for other in ({"steps": 9}, {"steps": 2, "sleep_s": 1}, {"steps": 2, "priority": "low"}):
        error = assert_error(
            client.post("/v1/jobs/noop", json=other, headers=headers), 409, "idempotency_conflict"
        )
        assert first.json()["id"] in error["message"]
    replay = client.post("/v1/jobs/noop", json={"steps": 2}, headers=headers)
    assert replay.json()["id"] == first.json()["id"]


def test_a_retry_with_other_file_bytes_is_a_conflict(
    client: TestClient, listen_pipeline: PipelineSpec
) -> None:
    headers = {"Idempotency-Key": "upload-1"}
    audio = wav_bytes(0.3)
    first = client.post("/v1/jobs/listen", files={"audio": ("a.wav", audio)}, headers=headers)
    assert first.status_code == 202, first.text
    same = client.post("/v1/jobs/listen", files={"audio": ("b.wav", audio)}, headers=headers)
    assert same.status_code == 202 and same.json()["id"] == first.json()["id"]
    other = client.post(
        "/v1/jobs/listen", files={"audio": ("a.wav", wav_bytes(0.4))}, headers=headers
    )
    assert_error(other, 409, "idempotency_conflict")
