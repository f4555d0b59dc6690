"""``visiovox jobs``: submit, follow, list, cancel and download jobs over the HTTP API.

A client of a running gateway (``--url`` / ``VISIOVOX_URL``, ``--api-key`` /
``VISIOVOX_API_KEY``); it imports nothing of the server. Exit codes are in
``outcome.py``.
"""

from visiovox.cli_jobs.commands import jobs_app

__all__ = ["jobs_app"]
