"""Rate limits and quotas on a real deployment: two workers, auth on, small limits per test.

Each test calls from its own loopback address (``127.0.0.N``: every one is
the local host), so the per-address buckets of one test never drain
another's; ``127.0.0.9`` is the deployment's one trusted proxy.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from tests.integration.stack import Stack, wait_for_job, wait_until

PROXY = "127.0.0.9"
RATE_HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    deployment = Stack(
        tmp_path_factory.mktemp("limits"),
        settings={
            "VISIOVOX_AUTH__ENABLED": "on",
            "VISIOVOX_LIMITS__ADDRESS__RATE_PER_S": "0.1",
            "VISIOVOX_LIMITS__ADDRESS__BURST": "5",
            "VISIOVOX_GATEWAY__TRUSTED_PROXIES": f'["{PROXY}"]',
            "VISIOVOX_SCHEDULER__RETRY_AFTER_S": "3",
        },
    )
    try:
        yield deployment.start(workers=2, owners=("helper",))
    finally:
        deployment.stop()


def key(stack: Stack, owner: str, *options: str) -> str:
    """A key made by ``visiovox keys create`` with ``options``."""
    output = subprocess.run(
        [sys.executable, "-m", "visiovox", "keys", "create", "--owner", owner, *options],
        env=stack.env,
        cwd=stack.root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return output.strip().splitlines()[-1]


def client(stack: Stack, source: str, api_key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=stack.base_url, headers=headers, transport=transport, timeout=30)


def submit(http: httpx.Client, **params: Any) -> httpx.Response:
    return http.post("/v1/jobs/noop", data={name: str(v) for name, v in params.items()})


def assert_limited(response: httpx.Response, code: str) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == code
    assert int(response.headers["retry-after"]) >= 1
    assert all(name in response.headers for name in RATE_HEADERS)
    assert response.headers["ratelimit-remaining"] == "0"


def quota_counts(stack: Stack, owner: str) -> dict[str, int]:
    db = redis.Redis.from_url(stack.redis.url)
    return {s: int(db.zcard(f"vv:quota:{owner}:{s}")) for s in ("queued", "running", "held")}


def test_wrong_key_guesses_from_one_address_get_429_after_the_burst(limited: Stack) -> None:
    with client(limited, "127.0.0.2", "vvk_wrong") as guesser:
        statuses = [guesser.get("/v1/jobs").status_code for _ in range(8)]
        assert statuses == [401] * 5 + [429] * 3
        assert_limited(guesser.get("/v1/jobs"), "rate_limited")
        assert guesser.get("/healthz").status_code == 200  # health is never limited
    with client(limited, "127.0.0.3", "vvk_wrong") as other:  # another address: its own bucket
        assert other.get("/v1/jobs").status_code == 401


def test_a_keys_request_limit_and_headers(limited: Stack) -> None:
    with client(
        limited, "127.0.0.4", key(limited, "reader", "--rate", "1/min", "--burst", "3")
    ) as http:
        first = http.get("/v1/jobs")
        assert first.status_code == 200
        assert first.headers["ratelimit-limit"] == "3"
        assert first.headers["ratelimit-remaining"] == "2"
        assert [http.get("/v1/jobs").status_code for _ in range(3)] == [200, 200, 429]
        refused = http.get("/v1/pipelines")
        assert_limited(refused, "rate_limited")
        assert int(refused.headers["retry-after"]) > 30  # one token a minute


def test_a_keys_submissions_per_minute(limited: Stack) -> None:
    with client(limited, "127.0.0.5", key(limited, "submitter", "--submits", "2/min")) as http:
        assert [submit(http).status_code for _ in range(2)] == [202, 202]
        assert_limited(submit(http), "rate_limited")
        assert http.get("/v1/jobs").status_code == 200  # reads are not submissions


def test_max_queued_per_key_does_not_block_another_key_and_frees_on_cancel(
    limited: Stack,
) -> None:
    greedy = key(limited, "greedy", "--max-queued", "1", "--max-running", "1")
    with (
        client(limited, "127.0.0.6", greedy) as http,
        client(limited, "127.0.0.6", key(limited, "modest")) as other,
    ):
        running = submit(http, sleep_s=30, steps=300).json()["id"]
        wait_for_job(http, running, until={"running"})
        waiting = submit(http, sleep_s=30, steps=300).json()["id"]
        assert_limited(submit(http), "quota_exceeded")
        assert submit(other).status_code == 202
        assert http.delete(f"/v1/jobs/{waiting}").status_code == 202
        assert quota_counts(limited, "greedy")["queued"] == 0
        again = submit(http, sleep_s=30, steps=300).json()["id"]
        for job_id in (running, again):
            http.delete(f"/v1/jobs/{job_id}")
            wait_for_job(http, job_id)
        assert quota_counts(limited, "greedy") == {"queued": 0, "running": 0, "held": 0}


def test_max_running_makes_the_next_job_wait_for_the_first(limited: Stack) -> None:
    with client(limited, "127.0.0.7", key(limited, "serial", "--max-running", "1")) as http:
        ids = [submit(http, sleep_s=1, steps=5).json()["id"] for _ in range(2)]
        first, second = (wait_for_job(http, job_id, timeout_s=60) for job_id in ids)
        assert first["status"] == second["status"] == "succeeded"
        # Two idle workers, yet the second started only once the first had finished.
        assert second["started_at"] >= first["finished_at"]
        wait_until(
            lambda: quota_counts(limited, "serial") == {"queued": 0, "running": 0, "held": 0},
            timeout_s=10,
            what="released counts",
        )


def test_priority_high_only_for_keys_allowed_it(limited: Stack) -> None:
    with client(limited, "127.0.0.8", key(limited, "plain")) as plain:
        refused = submit(plain, priority="high")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "priority_not_allowed"
        assert submit(plain, priority="low").status_code == 202
    with client(limited, "127.0.0.8", key(limited, "vip", "--high-priority")) as vip:
        assert submit(vip, priority="high").status_code == 202


def test_forwarded_addresses_count_only_from_a_trusted_proxy(limited: Stack) -> None:
    spoofed = [{"X-Forwarded-For": f"198.51.100.{n}"} for n in range(8)]
    with client(limited, "127.0.0.10") as direct:  # not a trusted proxy: headers ignored
        statuses = [direct.get("/v1/jobs", headers=h).status_code for h in spoofed]
        assert statuses == [401] * 5 + [429] * 3
    with client(limited, PROXY) as proxy:
        # Each forwarded client has its own bucket ...
        assert {proxy.get("/v1/jobs", headers=h).status_code for h in spoofed} == {401}
        # ... the client is the nearest untrusted hop, whatever a client put before it ...
        chain = {"X-Forwarded-For": f"1.2.3.4, 203.0.113.7, {PROXY}"}
        assert [proxy.get("/v1/jobs", headers=chain).status_code for _ in range(6)] == [401] * 5 + [
            429
        ]
        # ... and the Forwarded header counts too (the same client: still limited).
        forwarded = {"Forwarded": 'for="203.0.113.7:4711";proto=https'}
        assert proxy.get("/v1/jobs", headers=forwarded).status_code == 429
