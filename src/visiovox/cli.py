"""The ``visiovox`` command: up, serve, worker, keys, models."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from visiovox.cli_models import models_app
from visiovox.config import Settings, get_settings

app = typer.Typer(help="VisioVox: self-hosted AI media jobs.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(models_app, name="models")


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.command()
def up() -> None:
    """Start the embedded Redis (unless VISIOVOX_REDIS__URL is set), one worker and the gateway."""
    from visiovox.supervisor import Supervisor

    settings = get_settings()
    _setup_logging(settings)
    raise typer.Exit(Supervisor(settings).run())


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default from config).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from config).")] = None,
) -> None:
    """Run the HTTP gateway."""
    import uvicorn

    settings = get_settings()
    _setup_logging(settings)
    uvicorn.run(
        "visiovox.api.app:create_app",
        factory=True,
        host=host or settings.gateway.host,
        port=port or settings.gateway.port,
        workers=settings.gateway.processes,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


@app.command()
def worker(
    device: Annotated[str | None, typer.Option(help="cpu or cuda:N (default from config).")] = None,
    name: Annotated[str | None, typer.Option(help="Worker name (default <host>/<device>).")] = None,
) -> None:
    """Run a worker on one device."""
    from visiovox.worker.main import run_worker

    settings = get_settings()
    _setup_logging(settings)
    run_worker(settings, device=device or settings.worker.device, name=name)


@keys_app.command("create")
def keys_create(
    owner: Annotated[str, typer.Option(help="Who the key acts for.")],
    name: Annotated[str, typer.Option(help="A label for the key.")] = "default",
) -> None:
    """Create an API key and print it (shown once; only its hash is stored)."""
    from visiovox.jobs.apikeys import ApiKeyStore
    from visiovox.jobs.redis_client import build_domain

    domain = build_domain(get_settings())
    print(ApiKeyStore(domain.redis, keys=domain.keys).create(owner=owner, name=name))


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key to revoke.")]) -> None:
    """Revoke an API key."""
    from visiovox.jobs.apikeys import ApiKeyStore
    from visiovox.jobs.redis_client import build_domain

    domain = build_domain(get_settings())
    ApiKeyStore(domain.redis, keys=domain.keys).revoke(key)
