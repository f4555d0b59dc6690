"""Back-off with jitter, Retry-After, and which answers are retried."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from visiovox.webhooks.retry import backoff_s, is_retried, parse_retry_after


@pytest.mark.parametrize("status", [None, 408, 429, 500, 502, 503])
def test_network_errors_timeouts_429_and_5xx_are_retried(status: int | None) -> None:
    assert is_retried(status)


@pytest.mark.parametrize("status", [301, 302, 400, 401, 403, 404, 410, 422])
def test_other_answers_stop(status: int) -> None:
    assert not is_retried(status)


def test_backoff_doubles_with_jitter_and_caps() -> None:
    for attempt, ceiling in ((1, 30.0), (2, 60.0), (3, 120.0), (7, 1800.0), (12, 1800.0)):
        delays = [backoff_s(attempt, base_s=30, max_s=1800, retry_after_s=None) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered


def test_retry_after_is_honoured_when_later_and_capped() -> None:
    assert backoff_s(1, base_s=1, max_s=100, retry_after_s=40) == 40
    assert backoff_s(1, base_s=1, max_s=100, retry_after_s=4000) == 100
    assert backoff_s(1, base_s=10, max_s=100, retry_after_s=0.001) >= 5


def test_retry_after_as_seconds_or_http_date() -> None:
    assert parse_retry_after("7", now=0) == 7.0
    assert parse_retry_after(None, now=0) is None
    assert parse_retry_after("soon", now=0) is None
    when = formatdate(1_700_000_060, usegmt=True)
    assert parse_retry_after(when, now=1_700_000_000) == pytest.approx(60, abs=1)
