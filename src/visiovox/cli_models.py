"""``visiovox models``: list, pull, verify and remove the models of the manifest."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from visiovox.config import get_settings
from visiovox.models.catalog import human_size, model_rows
from visiovox.models.errors import ModelUnavailable, UnknownModel
from visiovox.models.manifest import ModelEntry, get_manifest
from visiovox.models.transfer import TransferProgress

models_app = typer.Typer(help="List, fetch, verify and remove models.", no_args_is_help=True)


@models_app.command("list")
def list_models() -> None:
    """Every model of the manifest: task, engine, size, licence, installed, sources."""
    table = Table(title="Models")
    for column in ("id", "task", "engine", "size", "licence", "installed", "sources"):
        table.add_column(column, justify="right" if column == "size" else "left")
    for row in model_rows(get_settings()):
        licence = row.license + (" (non-commercial)" if row.non_commercial else "")
        table.add_row(
            row.id,
            row.task,
            row.engine,
            human_size(row.size),
            licence,
            "yes" if row.installed else "no",
            ", ".join(row.sources),
        )
    Console(width=200).print(table)


@models_app.command("pull")
def pull(
    model_ids: Annotated[list[str], typer.Argument(help="Manifest ids, e.g. whisper-small.")],
) -> None:
    """Fetch models into the cache (digest-checked, resumable, one download across processes)."""
    from visiovox.models.cache import prepare_model

    settings = get_settings()
    entries = _entries(model_ids)
    bars = _ProgressBars()
    failed = 0
    for entry in entries:
        try:
            folder = prepare_model(settings, entry.id, progress=bars.update)
        except ModelUnavailable as exc:
            failed += 1
            typer.echo(f"error: {exc.message}", err=True)
            continue
        finally:
            bars.close()
        typer.echo(f"{entry.id}: ready in {folder} ({human_size(entry.size)})")
    raise typer.Exit(1 if failed else 0)


@models_app.command("verify")
def verify(
    model_ids: Annotated[
        list[str] | None, typer.Argument(help="Manifest ids; none: every cached model.")
    ] = None,
) -> None:
    """Hash cached models again; exit 1 if any file is corrupt or missing."""
    from visiovox.models.maintenance import FileState, verify_cached

    settings = get_settings()
    entries = _entries(model_ids) if model_ids else list(get_manifest(settings).models)
    bad = 0
    for entry in entries:
        checks = verify_cached(
            entry, settings.models.cache_dir, lock_timeout_s=settings.models.lock_timeout_s
        )
        for check in checks:
            if check.state is not FileState.OK:
                bad += 1
                detail = f" ({check.detail})" if check.detail else ""
                typer.echo(f"{check.model_id}/{check.path}: {check.state.value}{detail}", err=True)
        if checks and all(check.state is FileState.OK for check in checks):
            typer.echo(f"{entry.id}: ok ({len(checks)} files)")
    if bad:
        typer.echo(f"{bad} bad file(s); `visiovox models pull ID` fetches them again", err=True)
    raise typer.Exit(1 if bad else 0)


@models_app.command("rm")
def remove(model_ids: Annotated[list[str], typer.Argument(help="Manifest ids.")]) -> None:
    """Delete models from the cache (bundled ones are relinked from their package on next use)."""
    from visiovox.models.maintenance import remove_cached

    settings = get_settings()
    for entry in _entries(model_ids):
        removed = remove_cached(
            entry, settings.models.cache_dir, lock_timeout_s=settings.models.lock_timeout_s
        )
        typer.echo(f"{entry.id}: {'removed' if removed else 'not in the cache'}")


def _entries(model_ids: list[str]) -> list[ModelEntry]:
    manifest = get_manifest(get_settings())
    try:
        return [manifest.get(model_id) for model_id in model_ids]
    except UnknownModel as exc:
        known = ", ".join(entry.id for entry in manifest.models)
        typer.echo(f"error: no model {exc.args[0]!r} in the manifest (known: {known})", err=True)
        raise typer.Exit(2) from None


class _ProgressBars:
    """One tqdm bar per file being fetched, on stderr."""

    def __init__(self) -> None:
        self._bars: dict[tuple[str, str], tqdm[None]] = {}

    def update(self, progress: TransferProgress) -> None:
        key = (progress.model_id, progress.path)
        bar = self._bars.get(key)
        if bar is None:
            bar = tqdm(
                total=progress.total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=f"{progress.model_id}/{progress.path}",
                leave=True,
            )
            self._bars[key] = bar
        bar.update(progress.done - bar.n)
        if progress.verified:
            bar.close()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()
