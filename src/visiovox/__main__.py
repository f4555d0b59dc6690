"""``python -m visiovox`` runs the CLI."""

from visiovox.cli import app

app()
