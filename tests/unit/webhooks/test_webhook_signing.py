"""Standard Webhooks signatures: the spec's own test vector, and an independent check."""

from __future__ import annotations

import base64
import hashlib
import hmac

from visiovox.config_webhooks import new_signing_secret
from visiovox.webhooks.signing import signature, signed_headers


def test_the_standard_webhooks_test_vector() -> None:
    # From the Standard Webhooks specification's reference tests.
    sig = signature(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=1614265330,
        body=b'{"test": 2432232314}',
    )
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_headers_verify_with_an_independent_implementation() -> None:
    secret = new_signing_secret()
    body = b'{"type": "job.completed"}'
    headers = signed_headers(secret, msg_id="msg_1", timestamp=1700000000, body=body)
    key = base64.b64decode(secret.split("_", 1)[1])
    mac = hmac.new(key, b"msg_1.1700000000." + body, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(mac).decode()
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["content-type"] == "application/json"


def test_new_secrets_are_whsec_and_32_random_bytes() -> None:
    first, second = new_signing_secret(), new_signing_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32
