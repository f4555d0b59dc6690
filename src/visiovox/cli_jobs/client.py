"""A small HTTP client of the jobs API on ``requests``: every failure as a ``CliFailure``.

Transport failures (refused, reset, timed out) are ``unreachable`` (exit 4);
an answer in the API's error shape keeps its code and message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from visiovox.cli_jobs.outcome import CliFailure, Exit, for_api_error
from visiovox.cli_jobs.sse import ServerEvent, read_events

# Seconds to connect, and to wait for the next bytes of an answer.
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 60.0
# A download's chunk; outputs are streamed to disk, never held whole.
CHUNK_BYTES = 1 << 16


@dataclass(frozen=True)
class ApiClient:
    """The jobs API at ``base_url``, called with ``api_key`` (None: auth off)."""

    base_url: str
    api_key: str | None = None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _call(self, method: str, path: str, **options: Any) -> requests.Response:
        """One request; a 4xx/5xx becomes the ``CliFailure`` its error body names."""
        options.setdefault("timeout", (CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
        headers = {**self._headers(), **options.pop("headers", {})}
        url = self.base_url.rstrip("/") + path
        try:
            response = requests.request(method, url, headers=headers, **options)
        except requests.RequestException as exc:
            reason = type(exc).__name__  # the whole text repeats the URL and urllib3's internals
            raise CliFailure(
                Exit.UNREACHABLE, "unreachable", f"cannot reach {self.base_url} ({reason})"
            ) from None
        if response.status_code >= 400:
            raise _api_failure(response)
        return response

    def submit(
        self, pipeline: str, *, params: dict[str, Any], files: dict[str, Path]
    ) -> dict[str, Any]:
        """``POST /v1/jobs/{pipeline}``: multipart when there are files, else a JSON body
        (which carries the lists and objects a form cannot)."""
        if not files:
            return dict(self._call("POST", f"/v1/jobs/{pipeline}", json=params).json())
        with contextlib.ExitStack() as stack:
            parts = {
                field: (path.name, stack.enter_context(path.open("rb")))
                for field, path in files.items()
            }
            response = self._call("POST", f"/v1/jobs/{pipeline}", data=params, files=parts or None)
        return dict(response.json())

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/jobs/{job_id}").json())

    def jobs(
        self, *, status: str | None, pipeline: str | None, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        query = {"status": status, "pipeline": pipeline, "limit": limit, "cursor": cursor}
        params = {key: value for key, value in query.items() if value is not None}
        return dict(self._call("GET", "/v1/jobs", params=params).json())

    def cancel(self, job_id: str) -> dict[str, Any]:
        return dict(self._call("DELETE", f"/v1/jobs/{job_id}").json())

    def events(self, job_id: str, *, after: str | None, read_s: float) -> Iterator[ServerEvent]:
        """The job's SSE stream from after ``after``; ``read_s`` bounds each wait for bytes
        (``requests.Timeout`` then, for the caller to check its deadline and resume)."""
        headers = {"Last-Event-ID": after} if after else {}
        response = self._call(
            "GET",
            f"/v1/jobs/{job_id}/events",
            headers=headers,
            stream=True,
            timeout=(CONNECT_TIMEOUT_S, read_s),
        )
        with response:
            yield from read_events(response.iter_lines(decode_unicode=True))

    def download(self, url: str, destination: Path) -> Path:
        """Stream one output (its ``url`` from the job) into ``destination``."""
        with self._call("GET", url, stream=True) as response, destination.open("wb") as sink:
            for chunk in response.iter_content(CHUNK_BYTES):
                sink.write(chunk)
        return destination


def _api_failure(response: requests.Response) -> CliFailure:
    """The API's ``{"error": {"code", "message"}}``, or the status line when a proxy answered."""
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = f"http_{response.status_code}", response.reason or "error"
    return for_api_error(response.status_code, code, message)
