"""Job webhooks on a real deployment: real receivers on loopback, ``allow_private`` on.

Each receiver is a ``WebhookReceiver`` this test starts on 127.0.0.1; no
delivery goes anywhere else. Retries are fast here (0.2 s base, 1 s cap) so
the file stays short. The signature is checked with an HMAC written in this
file, not with ``webhooks/signing.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.certificates import self_signed
from tests.integration.stack import Stack, free_port, wait_for_job, wait_until
from tests.webhook_receiver import Received, WebhookReceiver

PUBLIC_URL = "https://vv.example.test"
WEBHOOK_SETTINGS = {
    "VISIOVOX_AUTH__ENABLED": "on",
    "VISIOVOX_GATEWAY__PUBLIC_URL": PUBLIC_URL,
    "VISIOVOX_WEBHOOKS__ALLOW_PRIVATE": "true",
    "VISIOVOX_WEBHOOKS__ALLOW_HTTP": "true",
    "VISIOVOX_WEBHOOKS__RETRY_BASE_S": "0.2",
    "VISIOVOX_WEBHOOKS__RETRY_MAX_S": "1",
    "VISIOVOX_WEBHOOKS__LEASE_S": "1",
    "VISIOVOX_WEBHOOKS__POLL_S": "0.2",
    "VISIOVOX_WEBHOOKS__TIMEOUT_S": "2",
    "VISIOVOX_WEBHOOKS__PROGRESS_MIN_INTERVAL_S": "0.3",
}


@pytest.fixture(scope="module")
def receiver_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The certificate (for 127.0.0.1) and key of HTTPS receivers the stack trusts."""
    return self_signed(tmp_path_factory.mktemp("ca"), "127.0.0.1")


@pytest.fixture(scope="module")
def hooks_stack(
    tmp_path_factory: pytest.TempPathFactory, receiver_tls: tuple[Path, Path]
) -> Iterator[Stack]:
    settings = {**WEBHOOK_SETTINGS, "VISIOVOX_WEBHOOKS__CA_FILE": str(receiver_tls[0])}
    deployment = Stack(tmp_path_factory.mktemp("webhooks"), settings=settings)
    try:
        deployment.start(owners=("alice", "bob"))
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    started = WebhookReceiver().start()
    yield started
    started.stop()


def rotate_secret(stack: Stack, owner: str) -> str:
    """``visiovox keys rotate-webhook-secret``: the key's new secret."""
    output = subprocess.run(
        [sys.executable, "-m", "visiovox", "keys", "rotate-webhook-secret", stack.api_keys[owner]],
        env=stack.env,
        cwd=stack.root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return output.strip().splitlines()[-1]


def verify(secret: str, request: Received) -> dict[str, Any]:
    """The body of a delivery whose Standard Webhooks signature holds (an independent check)."""
    msg_id = request.headers["webhook-id"]
    timestamp = request.headers["webhook-timestamp"]
    key = base64.b64decode(secret[len("whsec_") :])
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    signatures = [s.partition(",")[2] for s in request.headers["webhook-signature"].split()]
    assert any(hmac.compare_digest(expected, s) for s in signatures)
    assert abs(time.time() - int(timestamp)) < 60
    return dict(json.loads(request.body))


def submit(client: httpx.Client, data: dict[str, Any]) -> str:
    response = client.post("/v1/jobs/noop", data=data)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_completed_is_signed_with_the_keys_secret_and_carries_the_job(
    hooks_stack: Stack, receiver: WebhookReceiver
) -> None:
    secret = rotate_secret(hooks_stack, "alice")
    with hooks_stack.client("alice") as client:
        url = f"{receiver.url}?token=s3cret"
        job_id = submit(client, {"write_bytes": "10", "webhook": url})
        job = wait_for_job(client, job_id)
        assert job["webhook"] == receiver.url  # shown without its query string
        assert job["webhook_events"] == ["completed"]
    [request] = receiver.wait_for(1, timeout_s=20)
    assert request.path == "/hook?token=s3cret"
    body = verify(secret, request)
    assert body["type"] == "job.completed"
    assert body["data"]["id"] == job_id and body["data"]["status"] == "succeeded"
    [output] = body["data"]["outputs"]
    assert output["url"] == f"{PUBLIC_URL}/v1/jobs/{job_id}/files/out.bin"
    assert request.headers["webhook-id"].startswith(f"msg_{job_id}_")
    time.sleep(1.0)
    assert len(receiver.received) == 1  # delivered once


def test_completed_over_https_to_a_receiver_signed_by_the_ca_file(
    hooks_stack: Stack, receiver_tls: tuple[Path, Path], tmp_path: Path
) -> None:
    secret = rotate_secret(hooks_stack, "alice")
    trusted = WebhookReceiver(tls=receiver_tls).start()
    stranger = WebhookReceiver(tls=self_signed(tmp_path, "127.0.0.1")).start()
    try:
        with hooks_stack.client("alice") as client:
            job_id = submit(client, {"webhook": trusted.url})
            refused_id = submit(client, {"webhook": stranger.url})
            [request] = trusted.wait_for(1, timeout_s=20)
            body = verify(secret, request)
            assert (body["type"], body["data"]["id"]) == ("job.completed", job_id)

            def first_attempt() -> dict[str, Any] | None:
                log = client.get(f"/v1/jobs/{refused_id}/webhooks").json()["data"]
                return log[0]["attempt_log"][0] if log and log[0]["attempt_log"] else None

            attempt = wait_until(first_attempt, timeout_s=20, what="an attempt to the stranger")
        assert attempt["status_code"] is None
        assert "CERTIFICATE_VERIFY_FAILED" in attempt["error"], attempt
        assert stranger.received == []  # the handshake failed: no request was sent
    finally:
        trusted.stop()
        stranger.stop()


def test_completed_exactly_once_across_two_500s_then_log_and_redeliver(
    hooks_stack: Stack,
) -> None:
    receiver = WebhookReceiver(answers=[500, (500, {"retry-after": "0"})]).start()
    try:
        with hooks_stack.client("alice") as alice, hooks_stack.client("bob") as bob:
            job_id = submit(alice, {"webhook": receiver.url})
            requests = receiver.wait_for(3, timeout_s=20)
            time.sleep(1.5)  # past the longest back-off: nothing more comes
            assert len(receiver.received) == 3
            assert len({r.headers["webhook-id"] for r in requests}) == 1

            log = alice.get(f"/v1/jobs/{job_id}/webhooks").json()
            assert log["webhook"] == receiver.url
            [delivery] = log["data"]
            assert delivery["event"] == "completed" and delivery["status"] == "delivered"
            assert delivery["attempts"] == 3 and delivery["next_attempt_at"] is None
            assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 500, 200]
            assert delivery["id"] == requests[0].headers["webhook-id"]

            assert bob.get(f"/v1/jobs/{job_id}/webhooks").status_code == 404
            assert bob.post(f"/v1/jobs/{job_id}/webhooks/redeliver").status_code == 404

            again = alice.post(f"/v1/jobs/{job_id}/webhooks/redeliver")
            assert again.status_code == 202 and again.json()["id"] != delivery["id"]
            fourth = receiver.wait_for(4, timeout_s=20)[3]
            assert fourth.headers["webhook-id"] == again.json()["id"]
            assert len(alice.get(f"/v1/jobs/{job_id}/webhooks").json()["data"]) == 2

            metrics = alice.get("/metrics").text
            assert 'visiovox_webhook_attempts_total{result="delivered"}' in metrics
            assert 'visiovox_webhook_attempts_total{result="retry"}' in metrics
            assert "visiovox_webhook_queue" in metrics
    finally:
        receiver.stop()


def test_only_the_events_asked_for_are_delivered(
    hooks_stack: Stack, receiver: WebhookReceiver
) -> None:
    with hooks_stack.client("alice") as client:
        # A repeated form field, then one comma-separated value.
        first = submit(
            client,
            {"write_bytes": "10", "webhook": receiver.url, "webhook_events": ["started", "output"]},
        )
        wait_for_job(client, first)
        second = submit(
            client,
            {
                "sleep_s": "1.2",
                "steps": "12",
                "webhook": receiver.url,
                "webhook_events": "progress,completed",
            },
        )
        wait_for_job(client, second)
    wait_until(
        lambda: any(json.loads(r.body)["type"] == "job.completed" for r in receiver.received),
        timeout_s=20,
        what="the second job's completed webhook",
    )
    time.sleep(1.0)
    by_job: dict[str, list[str]] = {}
    for request in receiver.received:
        body = json.loads(request.body)
        by_job.setdefault(body["data"]["id"], []).append(body["type"])
    assert sorted(by_job[first]) == ["job.output", "job.started"]
    assert by_job[second].count("job.completed") == 1
    progress = by_job[second].count("job.progress")
    assert 1 <= progress <= 6  # 12 reports over 1.2 s, at most one per 0.3 s
    assert set(by_job[second]) == {"job.progress", "job.completed"}


def test_a_receiver_down_across_a_gateway_crash_still_gets_completed(
    tmp_path: Path,
) -> None:
    stack = Stack(tmp_path / "stack", settings=WEBHOOK_SETTINGS)
    stack.root.mkdir()
    port = free_port()
    receiver = WebhookReceiver(port=port)
    try:
        stack.start(owners=("alice",))
        with stack.client("alice") as client:
            job_id = submit(client, {"sleep_s": "1.5", "webhook": f"http://127.0.0.1:{port}/hook"})
        stack.kill_gateway()  # the job completes while no gateway runs, the receiver down
        client = redis.Redis.from_url(stack.redis.url)
        wait_until(
            lambda: client.hget(f"vv:job:{job_id}", "status") == b'"succeeded"',
            timeout_s=30,
            what="the job to succeed with no gateway",
        )
        stack.start_gateway()
        time.sleep(1.0)  # a few refused attempts while the receiver is down
        receiver.start()
        [request] = receiver.wait_for(1, timeout_s=30)
        body = json.loads(request.body)
        assert body["type"] == "job.completed" and body["data"]["id"] == job_id
        time.sleep(1.0)
        assert len(receiver.received) == 1
    finally:
        receiver.stop()
        stack.stop()
