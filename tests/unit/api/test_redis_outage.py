"""Redis unreachable: clear 503s in the error shape; everything works again once it is back."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from tests.unit.api.conftest import SettingsFactory
from tests.unit.api.helpers import assert_error
from visiovox.api.app import create_app
from visiovox.api.deps import Gateway
from visiovox.embedded_redis import EmbeddedRedis
from visiovox.jobs.model import EventType
from visiovox.jobs.redis_client import build_domain

# Well-formed (ids are checked before any Redis read) but never issued.
UNKNOWN_JOB = "feedface" * 4


def wait_until(check: Callable[[], bool], *, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def assert_unavailable(client: TestClient, job_id: str = UNKNOWN_JOB) -> None:
    for response in (
        client.post("/v1/jobs/noop", json={}),
        client.get(f"/v1/jobs/{job_id}"),
        client.get("/v1/jobs"),
        client.delete(f"/v1/jobs/{job_id}"),
        client.get(f"/v1/jobs/{job_id}/events"),
        client.get("/v1/workers"),
        client.get("/readyz"),
    ):
        assert_error(response, 503, "redis_unavailable")
        assert response.headers["retry-after"] == "2"
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_dead_socket_gives_503_and_healthz_stays_up(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings(
        redis={"url": f"unix://{tmp_path}/nothing.sock", "connect_timeout_s": 0.2}
    )
    started = time.monotonic()
    with TestClient(create_app(settings)) as client:
        assert_unavailable(client)
    assert time.monotonic() - started < 10, "outage answers must be fast"


def test_the_gateway_recovers_when_redis_returns(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    server = EmbeddedRedis(tmp_path / "redis", persist=False).start()
    settings = make_settings(redis={"url": server.url, "connect_timeout_s": 0.2})
    try:
        with TestClient(create_app(settings)) as client:
            gateway: Gateway = client.app.state.gateway  # type: ignore[attr-defined]
            job_id = client.post("/v1/jobs/noop", json={}).json()["id"]
            wait_until(lambda: gateway.hub.subscribed)

            server.stop()
            assert_unavailable(client, job_id)
            wait_until(lambda: not gateway.hub.subscribed)

            server.start()
            wait_until(lambda: client.post("/v1/jobs/noop", json={}).status_code == 202)
            assert client.get("/v1/jobs").status_code == 200
            assert client.get("/v1/workers").json() == {"data": []}
            wait_until(lambda: gateway.hub.subscribed)

            # The hub resubscribed: live events flow again.
            fresh = client.post("/v1/jobs/noop", json={}).json()["id"]
            with client.websocket_connect(f"/v1/jobs/{fresh}/ws") as socket:
                assert socket.receive_json()["type"] == "queued"
                build_domain(settings).events.append(fresh, EventType.LOG, {"message": "hi"})
                assert socket.receive_json()["data"] == {"message": "hi"}
    finally:
        server.stop()


def test_a_full_pool_answers_503_redis_busy_after_a_short_wait(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(redis={"max_connections": 2, "pool_timeout_s": 0.2})
    with TestClient(create_app(settings)) as client:
        gateway: Gateway = client.app.state.gateway  # type: ignore[attr-defined]
        wait_until(lambda: gateway.hub.subscribed)  # the subscription holds one
        assert client.portal is not None
        pool = gateway.aredis.connection_pool
        held = client.portal.call(pool.get_connection)

        response = client.get(f"/v1/jobs/{UNKNOWN_JOB}")
        assert_error(response, 503, "redis_busy")
        assert response.headers["retry-after"] == "1"
        assert "2 Redis connections stayed busy for 0.2s" in response.json()["error"]["message"]

        client.portal.call(pool.release, held)
        assert_error(client.get(f"/v1/jobs/{UNKNOWN_JOB}"), 404, "job_not_found")
