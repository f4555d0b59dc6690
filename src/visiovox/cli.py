"""The ``visiovox`` command: up, serve, worker, keys, models, jobs, webhooks."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from visiovox.cli_jobs import jobs_app
from visiovox.cli_keys import keys_app
from visiovox.cli_models import models_app
from visiovox.cli_webhooks import webhooks_app
from visiovox.config import Settings, get_settings
from visiovox.logs import setup_logging

app = typer.Typer(help="VisioVox: self-hosted AI media jobs.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(models_app, name="models")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(jobs_app, name="jobs")


@app.command()
def up() -> None:
    """Start the embedded Redis (unless VISIOVOX_REDIS__URL is set), one worker and the gateway."""
    from visiovox.supervisor import Supervisor

    settings = get_settings()
    setup_logging(settings.log_level)
    raise typer.Exit(Supervisor(settings).run())


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default from config).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from config).")] = None,
) -> None:
    """Run the HTTP gateway."""
    import uvicorn

    from visiovox.api.http_protocol import gateway_protocol

    settings = get_settings()
    setup_logging(settings.log_level)
    if settings.gateway.processes > 1:
        _prepare_multiprocess_metrics()
    uvicorn.run(
        "visiovox.api.app:create_app",
        factory=True,
        host=host or settings.gateway.host,
        port=port or settings.gateway.port,
        workers=settings.gateway.processes,
        log_level=settings.log_level.lower(),
        access_log=False,
        # Bounded header size, header time and body idle time (gateway.* settings).
        http=gateway_protocol(settings.gateway),
        # The client is the socket peer; api/ratelimit.py reads forwarded headers itself,
        # from gateway.trusted_proxies only (uvicorn's default trusts 127.0.0.1).
        proxy_headers=False,
    )


def _prepare_multiprocess_metrics() -> None:
    """Give the gateway processes one empty folder for their metrics (prometheus-client
    multiprocess mode); it must be set before they import prometheus_client."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        for stale in Path(folder).glob("*.db"):
            stale.unlink()
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="visiovox-metrics-")


@app.command()
def worker(
    device: Annotated[str | None, typer.Option(help="cpu or cuda:N (default from config).")] = None,
    name: Annotated[str | None, typer.Option(help="Worker name (default <host>/<device>).")] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port (0: off).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 0 if this worker is live, else 1 (healthcheck).")
    ] = False,
) -> None:
    """Run a worker on one device (cuda:N makes only that GPU visible to it)."""
    from visiovox.worker.device import assign_device, pin_device

    settings = get_settings()
    setup_logging(settings.log_level)
    try:
        assignment = assign_device(device or settings.worker.device, os.environ)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--device") from exc
    if check:
        raise typer.Exit(0 if _worker_is_live(settings, assignment.requested, name) else 1)
    # Before anything imports an engine runtime: the process then sees only its card.
    pin_device(assignment, os.environ)
    if metrics_port is not None:
        settings = settings.model_copy(
            update={"worker": settings.worker.model_copy(update={"metrics_port": metrics_port})}
        )
    from visiovox.worker.main import run_worker

    # 75 (EXIT_RECYCLE): over its memory ceiling after a job; start it again.
    raise typer.Exit(run_worker(settings, device=assignment, name=name))


def _worker_is_live(settings: Settings, device: str, name: str | None) -> bool:
    from visiovox.jobs.redis_client import build_domain
    from visiovox.jobs.workers import WORKER_TTL_HEARTBEATS, WorkerRegistry, WorkerState
    from visiovox.worker.state import default_worker_name

    wanted = name or settings.worker.name or default_worker_name(device)
    domain = build_domain(settings)
    ttl_s = WORKER_TTL_HEARTBEATS * settings.worker.heartbeat_s
    live = WorkerRegistry(domain.redis, keys=domain.keys, ttl_s=ttl_s).live()
    return any(w.name == wanted and w.state is not WorkerState.DEFUNCT for w in live)
