"""``visiovox webhooks``: the deployment's webhook signing secret.

``secret`` prints the secret that signs the webhooks of jobs made without an
API key: ``webhooks.signing_secret`` when configured, else the one kept in
Redis (generated here if no gateway has made it yet). A key's own secret is
shown by ``visiovox keys create`` and replaced by ``keys rotate-webhook-secret``.
"""

from __future__ import annotations

import typer

from visiovox.config import get_settings
from visiovox.jobs.redis_client import build_domain
from visiovox.webhooks.secrets import deployment_secret

webhooks_app = typer.Typer(help="Job webhooks.", no_args_is_help=True)


@webhooks_app.command("secret")
def webhooks_secret() -> None:
    """Print the deployment's webhook signing secret (whsec_…)."""
    settings = get_settings()
    domain = build_domain(settings)
    configured = settings.webhooks.signing_secret
    typer.echo(deployment_secret(domain.redis, keys=domain.keys, configured=configured))
