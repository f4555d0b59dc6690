"""One error shape for every 4xx/5xx: ``{"error": {"code": "...", "message": "..."}}``.

Handlers translate framework errors (unknown route, bad query; a JSON route's
body sent as another type is 415 ``unsupported_content_type``, one that is not
JSON or not UTF-8 400 ``invalid_json``), Redis outages (503
``redis_unavailable`` with ``Retry-After``, so clients retry), a connection
pool that stayed full for its whole timeout (503 ``redis_busy``), a storage
backend that does not answer (503 ``storage_unavailable``: an S3 bucket) and
unexpected exceptions (500, logged with the traceback) into that shape.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import redis.exceptions
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from visiovox.errors import param_error_code
from visiovox.jobs.redis_pool import PoolExhausted
from visiovox.storage.backend import StorageUnavailable

log = logging.getLogger(__name__)

REDIS_RETRY_AFTER_S = 2
# A full pool frees a connection within milliseconds: retry sooner than after an outage.
POOL_RETRY_AFTER_S = 1
# The errors that mean "Redis cannot answer now"; anything else from Redis is a bug.
REDIS_OUTAGES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
STORAGE_RETRY_AFTER_S = 5


class ApiError(Exception):
    """An error answered to the client as it is: status, stable code, human message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(
    status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def describe_errors(errors: Sequence[Any]) -> str:
    """Pydantic errors as ``field: problem; ...``, naming each field."""
    parts = []
    for error in errors:
        location = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        parts.append(f"{'.'.join(location) or 'request'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def invalid_params(exc: ValidationError) -> ApiError:
    """A pipeline-params validation failure as a 422: ``invalid_params``, or the code the
    params model raised itself (``param_error``, e.g. ``no_speakable_text``)."""
    errors = exc.errors()
    codes = (param_error_code(error["type"]) for error in errors)
    code = next((code for code in codes if code is not None), "invalid_params")
    return ApiError(422, code, describe_errors(errors))


def job_not_found(job_id: str) -> ApiError:
    """Also the answer for another owner's job: ids do not leak."""
    return ApiError(404, "job_not_found", f"no job {job_id!r}")


def session_not_found(session_id: str) -> ApiError:
    """Also the answer for another owner's session, or one that expired."""
    return ApiError(404, "session_not_found", f"no session {session_id!r}")


def redis_unavailable_error() -> ApiError:
    return ApiError(
        503,
        "redis_unavailable",
        "the job store (Redis) is unreachable; retry shortly",
        headers={"Retry-After": str(REDIS_RETRY_AFTER_S)},
    )


def redis_error(exc: Exception) -> ApiError:
    """The 503 for a Redis outage, or for a pool that stayed full (``PoolExhausted``)."""
    if isinstance(exc, PoolExhausted):
        return ApiError(
            503,
            "redis_busy",
            f"the gateway is too busy to serve this now ({exc}); retry shortly",
            headers={"Retry-After": str(POOL_RETRY_AFTER_S)},
        )
    return redis_unavailable_error()


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        code, message = "not_found", f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        code, message = "method_not_allowed", f"{request.method} is not allowed here"
    elif isinstance(exc.__cause__, RecursionError):
        # FastAPI's own body parsing (pydantic-typed routes) wraps json.loads's failure
        # on deep nesting (api/json_body.py bounds the bodies the gateway parses itself).
        code, message = "invalid_json", "the JSON body nests too deeply"
    elif isinstance(exc.__cause__, ValueError):
        # The same parse, on bytes that are not UTF-8 (UnicodeDecodeError).
        code, message = "invalid_json", f"the body is not valid JSON: {exc.__cause__}"
    else:
        phrase = HTTPStatus(exc.status_code).phrase
        code, message = phrase.lower().replace(" ", "_"), str(exc.detail)
    return error_response(exc.status_code, code, message, headers=exc.headers)


def _is_json(content_type: str) -> bool:
    """Whether FastAPI parses a body of ``content_type`` as JSON (``application/*json``)."""
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    # A body that is not JSON at all is malformed (400), as uploads.py answers it too.
    bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if bad_json is not None:
        reason = bad_json.get("ctx", {}).get("error", "malformed")
        return error_response(400, "invalid_json", f"the body is not valid JSON: {reason}")
    # A JSON route's body sent as another type reaches the model unparsed, as bytes.
    content_type = request.headers.get("content-type")
    if content_type and not _is_json(content_type) and any(e["loc"] == ("body",) for e in errors):
        message = f"send the body as application/json, not {content_type[:100]!r}"
        return error_response(415, "unsupported_content_type", message)
    return error_response(422, "invalid_params", describe_errors(errors))


async def _redis_error(request: Request, exc: Exception) -> JSONResponse:
    log.warning("Redis unavailable or busy during %s %s: %s", request.method, request.url.path, exc)
    error = redis_error(exc)
    return error_response(error.status, error.code, error.message, headers=error.headers)


def storage_unavailable() -> ApiError:
    """The storage backend (an S3 bucket) did not take or give a file: retry later."""
    return ApiError(
        503,
        "storage_unavailable",
        "the server's storage is unavailable; retry later",
        headers={"Retry-After": str(STORAGE_RETRY_AFTER_S)},
    )


async def _storage_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("storage unavailable during %s %s: %s", request.method, request.url.path, exc)
    error = storage_unavailable()
    return error_response(error.status, error.code, error.message, headers=error.headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "an unexpected error occurred")


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler; each answers the one error shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # The gateway dispatches by pushing onto Redis itself (jobs/task_message.py), so
    # Redis errors cover the broker too; no kombu error can reach a handler.
    for outage in REDIS_OUTAGES:
        app.add_exception_handler(outage, _redis_error)
    app.add_exception_handler(StorageUnavailable, _storage_error)
    app.add_exception_handler(Exception, _unexpected_error)
