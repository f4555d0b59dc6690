"""API keys: stored hashed, required when auth is on, and owners never see each other's jobs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.conftest import SettingsFactory
from tests.unit.api.helpers import assert_error
from visiovox.api.app import create_app
from visiovox.jobs.apikeys import ApiKeyStore, key_digest
from visiovox.jobs.redis_client import JobDomain, build_domain


@pytest.fixture
def secured(make_settings: SettingsFactory) -> Iterator[tuple[TestClient, JobDomain]]:
    settings = make_settings(auth={"enabled": "on"})
    with TestClient(create_app(settings)) as test_client:
        yield test_client, build_domain(settings)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_keys_are_stored_hashed_and_resolve_to_their_owner(domain: JobDomain) -> None:
    keys = ApiKeyStore(domain.redis, keys=domain.keys)
    key = keys.create("alice", "laptop")
    assert key.startswith("vvk_") and len(key) > 40
    record = keys.resolve(key)
    assert record is not None and record.owner == "alice"
    assert keys.resolve(key + "x") is None
    assert keys.resolve("not-a-key") is None
    stored = domain.redis.hgetall(domain.keys.api_key(key_digest(key)))
    assert stored[b"owner"] == b"alice" and stored[b"name"] == b"laptop"
    assert float(stored[b"created_at"]) > 0
    for name in domain.redis.scan_iter(f"{domain.keys.prefix}:*"):
        assert key.encode() not in name
        assert key.encode() not in b"".join(domain.redis.hvals(name))
    assert keys.revoke(key) is True
    assert keys.resolve(key) is None
    assert keys.revoke(key) is False
    with pytest.raises(ValueError):
        keys.create("")


def test_missing_or_unknown_key_is_401(secured: tuple[TestClient, JobDomain]) -> None:
    client, _ = secured
    for headers in ({}, bearer("vvk_nope"), {"Authorization": "Basic abc"}):
        response = client.get("/v1/jobs", headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"
    assert_error(client.post("/v1/jobs/noop", json={}), 401, "unauthorized")
    assert client.get("/healthz").status_code == 200


def test_owners_are_isolated(secured: tuple[TestClient, JobDomain]) -> None:
    client, domain = secured
    keys = ApiKeyStore(domain.redis, keys=domain.keys)
    alice, bob = keys.create("alice"), keys.create("bob")

    created = client.post("/v1/jobs/noop", json={}, headers=bearer(alice))
    assert created.status_code == 202
    job_id = created.json()["id"]
    stored = domain.store.get(job_id)
    assert stored is not None and stored.owner == "alice"

    assert client.get(f"/v1/jobs/{job_id}", headers={"X-API-Key": alice}).status_code == 200
    assert_error(client.get(f"/v1/jobs/{job_id}", headers=bearer(bob)), 404, "job_not_found")
    assert_error(client.delete(f"/v1/jobs/{job_id}", headers=bearer(bob)), 404, "job_not_found")
    assert_error(client.get(f"/v1/jobs/{job_id}/events", headers=bearer(bob)), 404, "job_not_found")
    assert_error(
        client.get(f"/v1/jobs/{job_id}/files/out.wav", headers=bearer(bob)), 404, "job_not_found"
    )
    assert client.get("/v1/jobs", headers=bearer(bob)).json()["data"] == []
    assert [j["id"] for j in client.get("/v1/jobs", headers=bearer(alice)).json()["data"]] == [
        job_id
    ]
    assert domain.store.get(job_id).status.value == "queued"  # type: ignore[union-attr]

    keys.revoke(alice)
    assert_error(client.get(f"/v1/jobs/{job_id}", headers=bearer(alice)), 401, "unauthorized")
