"""When a failed delivery is tried again, and which failures are final.

Network errors, timeouts, 408, 429 and 5xx are retried with exponential
back-off and jitter (within the upper half of ``base × 2^n``, capped), or after what the
receiver's ``Retry-After`` asks when that is later (itself capped); any other
answer outside 2xx (another 4xx, a redirect, which is never followed) stops:
the receiver said no, asking again would not change it.
"""

from __future__ import annotations

import random
from email.utils import parsedate_to_datetime

RETRIED_STATUSES = frozenset({408, 429})


def is_retried(status_code: int | None) -> bool:
    """Whether a failed attempt (``None``: no answer) is worth another one."""
    return status_code is None or status_code in RETRIED_STATUSES or status_code >= 500


def backoff_s(attempt: int, *, base_s: float, max_s: float, retry_after_s: float | None) -> float:
    """Seconds before the try after ``attempt`` (1 for the first), jittered in its upper half."""
    ceiling = min(max_s, base_s * 2 ** (attempt - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, max_s))
    return delay


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """``Retry-After`` in seconds from ``now``: delta seconds or an HTTP date; None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - now)
