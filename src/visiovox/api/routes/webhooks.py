"""A job's webhook deliveries: ``GET /v1/jobs/{id}/webhooks`` and ``.../webhooks/redeliver``.

Owner-scoped like every job route (another owner's job is 404). The log lists
each delivery with its attempts, status codes and next attempt; a redelivery
makes a new ``completed`` delivery (a new ``webhook-id``: the receiver is meant
to take it again) of a finished job that asked for one, 409 otherwise.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter

from visiovox.api.deps import CallerDep, OutboxDep, ReaderDep
from visiovox.api.errors import ApiError, job_not_found
from visiovox.api.ids import JobIdDep
from visiovox.api.schemas import (
    ErrorBody,
    WebhookAttemptOut,
    WebhookDeliveryList,
    WebhookDeliveryOut,
    iso,
)
from visiovox.jobs.model import Job
from visiovox.jobs.reader import JobReader
from visiovox.webhooks.outbox import Delivery
from visiovox.webhooks.target import public_url

router = APIRouter(prefix="/v1/jobs", tags=["webhooks"])


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}


async def _owned_job(reader: JobReader, job_id: str, owner: str) -> Job:
    job = await reader.get_for_owner(job_id, owner)
    if job is None:
        raise job_not_found(job_id)
    return job


def _delivery_out(delivery: Delivery) -> WebhookDeliveryOut:
    return WebhookDeliveryOut(
        id=delivery.id,
        event=delivery.event,
        status=delivery.status.value,
        attempts=delivery.attempts,
        created_at=iso(delivery.created_at) or "",
        next_attempt_at=iso(delivery.next_at),
        attempt_log=[
            WebhookAttemptOut(
                at=iso(item["at"]) or "",
                status_code=item.get("status_code"),
                error=item.get("error"),
                duration_ms=item.get("ms", 0.0),
            )
            for item in delivery.log
        ],
    )


@router.get("/{job_id}/webhooks", response_model=WebhookDeliveryList, responses=_errors(404))
async def list_deliveries(
    job_id: JobIdDep, caller: CallerDep, reader: ReaderDep, outbox: OutboxDep
) -> WebhookDeliveryList:
    """The job's webhook deliveries, oldest first, with their attempts."""
    job = await _owned_job(reader, job_id, caller.owner)
    deliveries = await outbox.deliveries(job.id)
    return WebhookDeliveryList(
        webhook=public_url(job.webhook) if job.webhook else None,
        webhook_events=job.webhook_events if job.webhook else [],
        data=[_delivery_out(d) for d in deliveries],
    )


@router.post(
    "/{job_id}/webhooks/redeliver",
    status_code=202,
    response_model=WebhookDeliveryOut,
    responses=_errors(404, 409),
)
async def redeliver(
    job_id: JobIdDep, caller: CallerDep, reader: ReaderDep, outbox: OutboxDep
) -> WebhookDeliveryOut:
    """Send the finished job's ``completed`` webhook again, as a new delivery. Answers 202."""
    job = await _owned_job(reader, job_id, caller.owner)
    outcome = await outbox.redeliver(job.id, now=time.time())
    if outcome == "missing":
        raise job_not_found(job_id)
    if outcome == "running":
        raise ApiError(409, "job_not_finished", f"job {job_id!r} has not finished yet")
    if outcome == "none":
        raise ApiError(409, "no_webhook", f"job {job_id!r} asked for no completed webhook")
    delivery = await outbox.load(outcome)
    if delivery is None:
        raise job_not_found(job_id)
    return _delivery_out(delivery)
