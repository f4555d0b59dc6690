"""The ``visiovox jobs`` commands: submit, list, get, watch, cancel, download.

Scripts read the job id (``submit``), the JSON record (``get``) or the
downloaded paths from stdout; the progress bar and errors go to stderr, an
error as ``error: <code>: <message>`` with the API's own code and message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec

import typer
from rich.console import Console
from rich.table import Table

from visiovox.cli_jobs.client import ApiClient
from visiovox.cli_jobs.follow import follow
from visiovox.cli_jobs.outcome import CliFailure, Exit

jobs_app = typer.Typer(help="Submit, follow and fetch jobs of a running gateway.")

UrlOpt = Annotated[
    str, typer.Option("--url", envvar="VISIOVOX_URL", help="The gateway's base URL.")
]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--api-key", envvar="VISIOVOX_API_KEY", help="API key (auth on).", show_default=False
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option("--timeout", min=0.0, help="Seconds to wait for the end (exit 5 past them)."),
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Download the outputs into this folder.")
]
DEFAULT_URL = "http://127.0.0.1:8000"

P = ParamSpec("P")


def _exits(command: Callable[P, Exit]) -> Callable[P, None]:
    """Run ``command``; exit with what it returns, or print a ``CliFailure`` and exit with it."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            code = command(*args, **kwargs)
        except CliFailure as failure:
            typer.echo(f"error: {failure.code}: {failure.message}", err=True)
            code = failure.exit
        raise typer.Exit(int(code))

    return run


def _pairs(values: list[str], option: str) -> dict[str, str]:
    """``KEY=VALUE`` options as a dict; a malformed one is a usage error (exit 2)."""
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{value!r} is not KEY=VALUE", param_hint=option)
        pairs[key] = rest
    return pairs


def _json_pairs(values: list[str]) -> dict[str, Any]:
    """``KEY=JSON`` options, each value parsed; one that does not parse is a usage error."""
    parsed: dict[str, Any] = {}
    for key, text in _pairs(values, "--json").items():
        try:
            parsed[key] = json.loads(text)
        except ValueError as exc:
            raise typer.BadParameter(f"{key}: {exc}", param_hint="--json") from None
    return parsed


def _files(values: list[str]) -> dict[str, Path]:
    files = {field: Path(path) for field, path in _pairs(values, "--file").items()}
    for field, path in files.items():
        if not path.is_file():
            raise typer.BadParameter(f"{field}: {path} is not a file", param_hint="--file")
    return files


def _finish(client: ApiClient, job: dict[str, Any], *, out: Path | None) -> Exit:
    """Report the ended job: its error on stderr, its outputs downloaded into ``out``."""
    status = str(job["status"])
    error = job.get("error")
    if error:
        typer.echo(f"error: {error['code']}: {error['message']}", err=True)
    else:
        typer.echo(f"{job['id']} {status}", err=True)
    if out is not None and status == "succeeded":
        _download_all(client, job, out)
    return Exit.for_status(status)


def _download_all(client: ApiClient, job: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for output in job["outputs"]:
        # The name comes from the server: keep only its last part inside ``out``.
        typer.echo(str(client.download(output["url"], out / Path(output["name"]).name)))


@jobs_app.command()
@_exits
def submit(
    pipeline: Annotated[str, typer.Argument(help="A pipeline name, e.g. tts.")],
    file: Annotated[
        list[str], typer.Option("--file", help="FIELD=PATH, an input file (repeatable).")
    ] = [],  # noqa: B006 - typer reads the default; it is never mutated
    param: Annotated[
        list[str], typer.Option("--param", help="KEY=VALUE, a param (repeatable).")
    ] = [],  # noqa: B006 - as above
    json_param: Annotated[
        list[str],
        typer.Option("--json", help="KEY=JSON, a list or object param, e.g. messages='[...]'."),
    ] = [],  # noqa: B006 - as above
    wait: Annotated[bool, typer.Option("--wait", help="Follow the job to its end.")] = False,
    out: OutOpt = None,
    timeout: TimeoutOpt = None,
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
) -> Exit:
    """Submit a job; print its id. With --wait (implied by --out) follow it and exit by its end."""
    client = ApiClient(url, api_key)
    params = {**_pairs(param, "--param"), **_json_pairs(json_param)}
    job = client.submit(pipeline, params=params, files=_files(file))
    typer.echo(job["id"])
    if not (wait or out is not None):
        return Exit.SUCCEEDED
    return _finish(client, follow(client, job["id"], timeout_s=timeout), out=out)


@jobs_app.command()
@_exits
def watch(
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    out: OutOpt = None,
    timeout: TimeoutOpt = None,
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
) -> Exit:
    """Follow a job's events to its end (one line each, and the progress bar); exit by its end."""
    client = ApiClient(url, api_key)
    return _finish(client, follow(client, job_id, timeout_s=timeout, log_events=True), out=out)


@jobs_app.command("get")
@_exits
def get_job(
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
) -> Exit:
    """Print the job's record as JSON."""
    typer.echo(json.dumps(ApiClient(url, api_key).job(job_id), indent=2))
    return Exit.SUCCEEDED


@jobs_app.command("list")
@_exits
def list_jobs(
    status: Annotated[str | None, typer.Option(help="Only jobs in this status.")] = None,
    pipeline: Annotated[str | None, typer.Option(help="Only jobs of this pipeline.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Jobs per page.")] = 20,
    cursor: Annotated[str | None, typer.Option(help="The next page, as printed.")] = None,
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
) -> Exit:
    """Your jobs, newest first; the cursor of the next page is printed under the table."""
    page = ApiClient(url, api_key).jobs(
        status=status, pipeline=pipeline, limit=limit, cursor=cursor
    )
    table = Table()
    for column in ("id", "pipeline", "status", "progress", "created"):
        table.add_column(column)
    for job in page["data"]:
        percent = f"{job['progress']['percent']:.0f}%"
        table.add_row(job["id"], job["pipeline"], job["status"], percent, job["created_at"])
    console = Console(width=160)
    console.print(table)
    if page["next_cursor"]:
        console.print(f"next page: --cursor {page['next_cursor']}")
    return Exit.SUCCEEDED


@jobs_app.command()
@_exits
def cancel(
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
) -> Exit:
    """Cancel a queued or running job (a finished one: error job_finished, exit 2)."""
    job = ApiClient(url, api_key).cancel(job_id)
    typer.echo(f"{job['id']} {job['status']}")
    return Exit.SUCCEEDED


@jobs_app.command()
@_exits
def download(
    job_id: Annotated[str, typer.Argument(help="The job's id.")],
    out: Annotated[Path, typer.Option("--out", help="The folder to write into.")] = Path("."),
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
) -> Exit:
    """Download every output of the job into --out; print each file's path."""
    client = ApiClient(url, api_key)
    _download_all(client, client.job(job_id), out)
    return Exit.SUCCEEDED
