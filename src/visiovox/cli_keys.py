"""``visiovox keys``: create, list, update and revoke API keys, with their limits and quotas.

A limit not given to a key is the configured default (``limits.key``), marked
``*`` by ``list``; ``update`` changes only the limits it is given.
A key is named by itself or by a prefix of its digest (``list`` shows them).
``create`` also shows the key's webhook signing secret, once, on stderr (stdout
stays the key alone, for scripts); ``rotate-webhook-secret`` replaces it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer

from visiovox.config import get_settings
from visiovox.jobs.apikeys import ApiKey, ApiKeyStore, UnknownKey, key_digest
from visiovox.jobs.redis_client import build_domain

keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)

_PER = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3_600.0}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*([a-z]+))?\s*$")


def parse_rate(text: str, *, per_s: float) -> float:
    """``20/s``, ``120/min``, ``1000/h`` (or a bare number, per ``per_s`` seconds) as a count
    per ``per_s`` seconds."""
    match = _RATE.match(text.lower())
    if match is None or (match.group(2) is not None and match.group(2) not in _PER):
        raise typer.BadParameter(f"{text!r} is not a rate like 20/s, 120/min or 1000/h")
    count = float(match.group(1))
    unit = _PER[match.group(2)] if match.group(2) else per_s
    if count <= 0:
        raise typer.BadParameter(f"{text!r}: a rate must be above zero")
    return count * per_s / unit


RateOpt = Annotated[str | None, typer.Option("--rate", help="Requests, e.g. 20/s.")]
BurstOpt = Annotated[int | None, typer.Option(help="Requests at once above the rate.", min=1)]
SubmitsOpt = Annotated[str | None, typer.Option(help="Job submissions, e.g. 120/min.")]
QueuedOpt = Annotated[int | None, typer.Option(help="Queued jobs at once (0: no cap).", min=0)]
RunningOpt = Annotated[int | None, typer.Option(help="Running jobs at once (0: no cap).", min=0)]
LiveOpt = Annotated[int | None, typer.Option(help="Live sessions at once (0: no cap).", min=0)]
HighOpt = Annotated[
    bool | None, typer.Option("--high-priority/--no-high-priority", help="May ask priority=high.")
]
UnlimitedOpt = Annotated[
    bool | None,
    typer.Option("--unlimited/--limited", help="Exempt from every rate limit and quota."),
]


def _limits(
    *,
    rate: str | None,
    burst: int | None,
    submits: str | None,
    max_queued: int | None,
    max_running: int | None,
    max_live: int | None,
    high_priority: bool | None,
    unlimited: bool | None,
) -> dict[str, Any]:
    """The limits given on the command line, under ``config.KeyLimits``'s names."""
    given: dict[str, Any] = {
        "rate_per_s": parse_rate(rate, per_s=1.0) if rate is not None else None,
        "burst": burst,
        "submits_per_min": parse_rate(submits, per_s=60.0) if submits is not None else None,
        "max_queued": max_queued,
        "max_running": max_running,
        "max_live": max_live,
        "high_priority": high_priority,
        "unlimited": unlimited,
    }
    return {name: value for name, value in given.items() if value is not None}


def _store() -> ApiKeyStore:
    settings = get_settings()
    domain = build_domain(settings)
    return ApiKeyStore(domain.redis, keys=domain.keys, defaults=settings.limits.key)


# (option name, KeyLimits field, unit shown after the value)
_SHOWN = (
    ("rate", "rate_per_s", "/s"),
    ("burst", "burst", ""),
    ("submits", "submits_per_min", "/min"),
    ("max-queued", "max_queued", ""),
    ("max-running", "max_running", ""),
    ("max-live", "max_live", ""),
    ("high-priority", "high_priority", ""),
    ("unlimited", "unlimited", ""),
)


def _describe(record: ApiKey) -> str:
    """One line per key: its digest prefix, owner, name and limits, ``*`` marking defaults."""
    parts = []
    for label, field, unit in _SHOWN:
        value = getattr(record.limits, field)
        text = str(value).lower() if isinstance(value, bool) else f"{value:g}"
        parts.append(f"{label}={text}{unit}" + ("" if field in record.own_limits else "*"))
    return f"{record.digest[:12]}  owner={record.owner}  name={record.name}  " + " ".join(parts)


@keys_app.command("create")
def keys_create(
    owner: Annotated[str, typer.Option(help="Who the key acts for.")],
    name: Annotated[str, typer.Option(help="A label for the key.")] = "default",
    rate: RateOpt = None,
    burst: BurstOpt = None,
    submits: SubmitsOpt = None,
    max_queued: QueuedOpt = None,
    max_running: RunningOpt = None,
    max_live: LiveOpt = None,
    high_priority: HighOpt = None,
    unlimited: UnlimitedOpt = None,
) -> None:
    """Create an API key and print it (shown once; only its hash is stored)."""
    limits = _limits(
        rate=rate,
        burst=burst,
        submits=submits,
        max_queued=max_queued,
        max_running=max_running,
        max_live=max_live,
        high_priority=high_priority,
        unlimited=unlimited,
    )
    store = _store()
    key = store.create(owner=owner, name=name, limits=limits)
    secret = store.webhook_secret(key_digest(key))
    typer.echo(f"webhook signing secret (shown once): {secret}", err=True)
    typer.echo(key)


@keys_app.command("update")
def keys_update(
    key: Annotated[str, typer.Argument(help="The key, or a prefix of its digest (keys list).")],
    rate: RateOpt = None,
    burst: BurstOpt = None,
    submits: SubmitsOpt = None,
    max_queued: QueuedOpt = None,
    max_running: RunningOpt = None,
    max_live: LiveOpt = None,
    high_priority: HighOpt = None,
    unlimited: UnlimitedOpt = None,
) -> None:
    """Change a key's limits (those not given stay as they are) and print the key's record."""
    limits = _limits(
        rate=rate,
        burst=burst,
        submits=submits,
        max_queued=max_queued,
        max_running=max_running,
        max_live=max_live,
        high_priority=high_priority,
        unlimited=unlimited,
    )
    try:
        typer.echo(_describe(_store().update(key, limits)))
    except UnknownKey as exc:
        raise typer.BadParameter(str(exc), param_hint="KEY") from exc


@keys_app.command("rotate-webhook-secret")
def keys_rotate_webhook_secret(
    key: Annotated[str, typer.Argument(help="The key, or a prefix of its digest (keys list).")],
) -> None:
    """Give a key a new webhook signing secret and print it (the old one stops at once)."""
    try:
        typer.echo(_store().rotate_webhook_secret(key))
    except UnknownKey as exc:
        raise typer.BadParameter(str(exc), param_hint="KEY") from exc


@keys_app.command("list")
def keys_list() -> None:
    """Every key's digest prefix, owner, name and limits (never a secret; * is a default)."""
    for record in _store().all_keys():
        typer.echo(_describe(record))


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key to revoke.")]) -> None:
    """Revoke an API key."""
    _store().revoke(key)
