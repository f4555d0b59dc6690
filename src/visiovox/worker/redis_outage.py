"""How a worker rides out a Redis outage (a restart, a failover): wait, never fail the job.

A job does nothing wrong when Redis goes away under it, so an outage must not
end it as ``internal_error``: advisory writes (progress, the cancel poll) skip a
beat, and what must reach the job record (the claim, the outcome) is retried
until Redis answers. The Celery task must not return before that either:
kombu acknowledges the message right after the task returns, and an
acknowledgement that fails leaves the message counted as delivered (kombu's
Redis ``QoS.ack`` raises before it forgets the delivery tag), so with a
prefetch of one the worker would never take another message, while its
heartbeat thread kept it looking alive.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import redis

log = logging.getLogger(__name__)

T = TypeVar("T")

# A server that is down, restarting or still loading its data set
# (``BusyLoadingError`` is a ``ConnectionError``); not a script or type error.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)


def until_redis_answers(
    call: Callable[[], T],
    *,
    what: str,
    first_delay_s: float = 0.05,
    max_delay_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``, retried with a capped back-off for as long as Redis is unreachable.

    Unbounded on purpose: without Redis the worker has nothing else to do, and a
    shutdown still ends it (the drain's deadline exits the process).
    """
    delay = first_delay_s
    failures = 0
    while True:
        try:
            result = call()
        except OUTAGE_ERRORS as exc:
            failures += 1
            if failures == 1:
                log.warning("Redis unreachable while %s (%s); retrying until it answers", what, exc)
            sleep(delay)
            delay = min(delay * 2, max_delay_s)
            continue
        if failures:
            log.warning("Redis answers again; %s after %d retries", what, failures)
        return result
