"""The ``webhooks`` section of the settings: where, how and how often job webhooks are sent.

Kept apart from ``config.py``, which holds it as ``Settings.webhooks``. The
delivery itself is ``webhooks/``'s; the reasons for each limit are there.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator

SECRET_PREFIX = "whsec_"


def new_signing_secret() -> str:
    """A fresh ``whsec_<base64>`` secret of 32 random bytes (Standard Webhooks' format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookSettings(BaseModel):
    """Job webhooks: who may be called, the signing secret, retries and limits.

    ``allow_private`` lets deliveries reach loopback, link-local, private and
    metadata addresses (tests, a receiver on the same host); ``allow_http``
    accepts ``http://`` URLs. ``signing_secret`` (``whsec_<base64>``) signs
    deliveries of jobs made without an API key; unset, one is generated at the
    first start and kept in Redis. A failed delivery is tried again after
    ``retry_base_s`` × 2^n seconds (at most ``retry_max_s``, with jitter, or what
    ``Retry-After`` asks), ``max_attempts`` times in all. ``ca_file``, a PEM
    file of CA certificates, is trusted for HTTPS beside the public roots (a
    receiver whose certificate an internal CA signed).
    """

    allow_private: bool = False
    allow_http: bool = False
    ca_file: Path | None = None
    signing_secret: SecretStr | None = None
    max_attempts: int = Field(default=8, ge=1, le=50)
    retry_base_s: float = Field(default=30.0, gt=0)
    retry_max_s: float = Field(default=1_800.0, gt=0)
    timeout_s: float = Field(default=10.0, gt=0)
    max_concurrency: int = Field(default=16, ge=1)
    max_response_bytes: int = Field(default=64 * 1024, ge=0)
    progress_min_interval_s: float = Field(default=2.0, ge=0)
    lease_s: float = Field(default=5.0, gt=0)
    poll_s: float = Field(default=1.0, gt=0)

    @field_validator("ca_file")
    @classmethod
    def _ca_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a file (a PEM file of CA certificates)")
        return value

    @field_validator("signing_secret")
    @classmethod
    def _whsec(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        text = value.get_secret_value()
        try:
            key = base64.b64decode(text.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error:
            key = b""
        if not text.startswith(SECRET_PREFIX) or len(key) < 16:
            raise ValueError(f"a signing secret is {SECRET_PREFIX} and 16+ bytes in base64")
        return value
