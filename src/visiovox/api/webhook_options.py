"""The ``webhook`` and ``webhook_events`` options of a submission, beside its params.

``webhook`` is the URL deliveries go to (``webhooks/target.py``'s checks:
422 ``invalid_webhook``); ``webhook_events`` the events to deliver (a subset of
``started``, ``progress``, ``output``, ``completed``; default ``completed``),
as one comma-separated value, a repeated form field, or a JSON list: 422
``invalid_webhook_events`` otherwise, and for events without a ``webhook``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from visiovox.api.errors import ApiError
from visiovox.config_webhooks import WebhookSettings
from visiovox.jobs.webhook_outbox import DEFAULT_EVENTS, WebhookEvent
from visiovox.webhooks.target import InvalidWebhook, parse_target

WEBHOOK_FIELD = "webhook"
EVENTS_FIELD = "webhook_events"


@dataclass(frozen=True)
class WebhookOption:
    """Where a job's webhooks go and which events they tell."""

    url: str
    events: list[str]


def _events(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(item, str) for item in items):
        raise _bad_events(f"{EVENTS_FIELD} is a comma-separated string or a list of strings")
    names = [name.strip() for item in items for name in item.split(",") if name.strip()]
    if not names:
        raise _bad_events(f"{EVENTS_FIELD} names no event")
    known = [event.value for event in WebhookEvent]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise _bad_events(f"no webhook event {unknown[0][:32]!r} (events: {', '.join(known)})")
    return list(dict.fromkeys(names))


def _bad_events(message: str) -> ApiError:
    return ApiError(422, "invalid_webhook_events", message)


def webhook_params(values: Mapping[str, Any]) -> dict[str, Any]:
    """The webhook options among ``values`` (a facade's body), to pass on with its params."""
    return {name: values[name] for name in (WEBHOOK_FIELD, EVENTS_FIELD) if values.get(name)}


def take_webhook(params: dict[str, Any], settings: WebhookSettings) -> WebhookOption | None:
    """Pop the webhook options from ``params``; None when no ``webhook`` was sent."""
    url = params.pop(WEBHOOK_FIELD, None)
    raw_events = params.pop(EVENTS_FIELD, None)
    if url is None:
        if raw_events is not None:
            raise _bad_events(f"{EVENTS_FIELD} needs a {WEBHOOK_FIELD} URL")
        return None
    if not isinstance(url, str):
        raise ApiError(422, "invalid_webhook", f"{WEBHOOK_FIELD} is a URL string")
    try:
        parse_target(url, allow_http=settings.allow_http, allow_private=settings.allow_private)
    except InvalidWebhook as exc:
        raise ApiError(422, "invalid_webhook", f"{WEBHOOK_FIELD}: {exc}") from None
    events = _events(raw_events) if raw_events is not None else [e.value for e in DEFAULT_EVENTS]
    return WebhookOption(url=url, events=events)
