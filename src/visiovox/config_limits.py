"""The ``limits`` section of the settings: rate limits and quotas of API keys and addresses.

Kept apart from ``config.py``, which holds it as ``Settings.limits``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class KeyLimits(BaseModel):
    """One caller's rate limits and quotas: an API key's, or the defaults of keys without them.

    Rates are token buckets: ``rate_per_s`` requests a second with bursts of
    ``burst``; ``submits_per_min`` job submissions a minute, a minute's worth at
    once. Quotas count the owner's top-level jobs: queued, running (more wait
    in the queue) and live sessions; 0 means no cap. ``unlimited`` exempts
    the key from every rate limit and quota.
    """

    rate_per_s: float = Field(default=50.0, gt=0)
    burst: int = Field(default=500, ge=1)
    submits_per_min: float = Field(default=600.0, gt=0)
    max_queued: int = Field(default=1_000, ge=0)
    max_running: int = Field(default=0, ge=0)
    max_live: int = Field(default=4, ge=0)
    high_priority: bool = False
    unlimited: bool = False


class AddressLimits(BaseModel):
    """The token buckets of one client address (requests without a valid key, or auth off)."""

    rate_per_s: float = Field(default=50.0, gt=0)
    burst: int = Field(default=500, ge=1)
    submits_per_min: float = Field(default=600.0, gt=0)


class AnonymousQuotas(BaseModel):
    """Quotas of the owner ``anonymous``, every caller's when auth is off (0: no cap)."""

    max_queued: int = Field(default=0, ge=0)
    max_running: int = Field(default=0, ge=0)
    max_live: int = Field(default=0, ge=0)
    high_priority: bool = True


class LimitSettings(BaseModel):
    """Rate limits (token buckets in Redis, shared by every gateway process) and quotas."""

    enabled: bool = True
    # What an API key gets unless it was given its own (`visiovox keys create/update`).
    key: KeyLimits = Field(default_factory=KeyLimits)
    # Per client address: requests without a valid key when auth is on, every request when off.
    address: AddressLimits = Field(default_factory=AddressLimits)
    anonymous: AnonymousQuotas = Field(default_factory=AnonymousQuotas)
