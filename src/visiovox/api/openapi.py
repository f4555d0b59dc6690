"""The OpenAPI document, completed where FastAPI cannot see: ``install_openapi(app)``.

FastAPI describes each route from its handler's signature. Added here, once,
when ``/openapi.json`` is first asked for:

- the errors shared layers answer, all in the one error shape (``ErrorBody``):
  401 ``unauthorized``, 429 ``rate_limited`` and 503 ``redis_unavailable`` or
  ``redis_busy`` wherever a route identifies its caller (``CallerDep``: the key
  and the rate limit are read from Redis); 422 wherever a route takes
  parameters or a body, whose body FastAPI documents as its own
  ``HTTPValidationError``, which this API never answers; 400 wherever a body is
  parsed (malformed JSON, form or multipart). What a single handler raises
  (404, 409, 413, 415, 507, ...) is declared on its route with ``responses=``;
- each pipeline's submission, ``POST /v1/jobs/<name>``, with the body its
  ``PipelineSpec`` takes: its params as JSON, and as form fields (scalar params,
  ``multipart/form-data`` with its file fields as binary parts, or urlencoded
  when it needs no file). The generic ``/v1/jobs/{pipeline}`` stays for any name.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any, get_args

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from visiovox.api.deps import CallerDep
from visiovox.api.schemas import ErrorBody
from visiovox.api.submission import PRIORITY_FIELD
from visiovox.api.webhook_options import EVENTS_FIELD, WEBHOOK_FIELD
from visiovox.jobs.queues import Priority
from visiovox.pipelines.registry import all_specs
from visiovox.pipelines.spec import PipelineSpec

SCHEMAS = "#/components/schemas/"
ERROR = {"$ref": f"{SCHEMAS}ErrorBody"}
SUBMIT_PATH = "/v1/jobs/{pipeline}"
# The shared layers' answers: (status, description) by what a route does.
CALLER_ERRORS = {
    401: "No API key, or an unknown or revoked one (`unauthorized`).",
    429: "A rate limit or quota was reached (`rate_limited`, `quota_exceeded`); see Retry-After.",
    503: "Redis is unreachable or the gateway's pool is full (`redis_unavailable`, `redis_busy`).",
}
PARAMS_ERROR = (422, "A parameter or body field is invalid (`invalid_params` or a field's code).")
BODY_ERROR = (400, "The body is malformed: JSON, form or multipart (`invalid_json`, ...).")
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Replays the owner's first job for a retry of the same request.",
    "schema": {"type": "string", "maxLength": 255},
}


def install_openapi(app: FastAPI, *, routers: Sequence[APIRouter]) -> None:
    """Serve the completed document as ``app.openapi()`` (built on first use, then kept);
    ``routers`` are those ``app`` includes, whose routes' dependencies are read."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, routers=routers)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def build_openapi(app: FastAPI, *, routers: Sequence[APIRouter]) -> dict[str, Any]:
    """FastAPI's document for ``app`` with the errors and pipeline bodies described above."""
    document = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _add_model(schemas, ErrorBody.model_json_schema(ref_template=SCHEMAS + "{model}"))
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    caller = _caller_dependency()
    for route in (route for router in routers for route in router.routes):
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in route.methods or ():
                operation = document["paths"][route.path_format].get(method.lower())
                if operation is not None:
                    _complete_errors(operation, identified=_depends_on(route.dependant, caller))
    _add_pipeline_submissions(document, schemas)
    return document


def _caller_dependency() -> Callable[..., Any]:
    return get_args(CallerDep)[1].dependency  # type: ignore[no-any-return]


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(sub.call is call or _depends_on(sub, call) for sub in dependant.dependencies)


def _complete_errors(operation: dict[str, Any], *, identified: bool) -> None:
    """Add the shared layers' errors to ``operation``; every error answers ``ErrorBody``."""
    responses = operation.setdefault("responses", {})
    errors: dict[int, str] = dict(CALLER_ERRORS) if identified else {}
    if operation.get("parameters") or "requestBody" in operation:
        errors.setdefault(*PARAMS_ERROR)
    if "requestBody" in operation:
        errors.setdefault(*BODY_ERROR)
    for status, description in errors.items():
        responses.setdefault(str(status), {"description": description})
    for status, response in responses.items():
        if int(status) >= 400:
            if response.get("description") in (None, "Validation Error"):
                response["description"] = PARAMS_ERROR[1]
            response["content"] = {"application/json": {"schema": ERROR}}


def _add_model(schemas: dict[str, Any], schema: dict[str, Any], *, name: str = "") -> None:
    """``schema`` (a pydantic model's) and its ``$defs`` as components."""
    schema = dict(schema)
    for def_name, definition in schema.pop("$defs", {}).items():
        schemas[def_name] = definition
    schemas[name or schema["title"]] = schema


def _add_pipeline_submissions(document: dict[str, Any], schemas: dict[str, Any]) -> None:
    generic = document["paths"][SUBMIT_PATH]["post"]
    for spec in all_specs():
        if spec.live:
            continue
        operation = copy.deepcopy(generic)
        operation["operationId"] = f"submit_{spec.name.replace('-', '_')}"
        operation["summary"] = f"Submit a {spec.name} job"
        operation["description"] = spec.summary
        operation["parameters"] = [IDEMPOTENCY_HEADER]
        operation["requestBody"] = {"required": True, "content": _bodies(spec, schemas)}
        document["paths"][f"/v1/jobs/{spec.name}"] = {"post": operation}
    generic["description"] = (
        "Submit a job to any pipeline by name; `POST /v1/jobs/<name>` describes each "
        "pipeline's params and files."
    )


def _bodies(spec: PipelineSpec, schemas: dict[str, Any]) -> dict[str, Any]:
    """The request bodies ``spec``'s submission takes, by media type."""
    prefix = f"{spec.params.__name__}."
    params = spec.params.model_json_schema(ref_template=f"{SCHEMAS}{prefix}{{model}}")
    for def_name, definition in params.pop("$defs", {}).items():
        schemas[prefix + def_name] = definition
    properties = dict(params.get("properties", {}))
    properties[PRIORITY_FIELD] = {"type": "string", "enum": [p.value for p in Priority]}
    properties[WEBHOOK_FIELD] = {"type": "string", "description": "https:// URL for webhooks"}
    properties[EVENTS_FIELD] = {
        "type": "string",
        "description": "comma-separated: started, progress, output, completed",
    }
    required = list(params.get("required", []))
    bodies = {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            }
        }
    }
    scalars = {name: prop for name, prop in properties.items() if _is_scalar(prop)}
    if not set(required) <= set(scalars):
        return bodies  # a list or object param is sent as JSON only
    files = {
        field.field: {"type": "string", "format": "binary", "description": field.description}
        for field in spec.inputs
    }
    form: dict[str, Any] = {"type": "object", "properties": {**scalars, **files}}
    form["additionalProperties"] = False
    if form_required := required + [field.field for field in spec.inputs if field.required]:
        form["required"] = form_required
    bodies["multipart/form-data"] = {"schema": form}
    if not files:
        bodies["application/x-www-form-urlencoded"] = {"schema": copy.deepcopy(form)}
    return bodies


def _is_scalar(prop: dict[str, Any]) -> bool:
    """A param a form field can carry: no list or object in any of its alternatives."""
    alternatives = prop.get("anyOf", [prop])
    return all(
        alt.get("type") not in ("array", "object") and "$ref" not in alt for alt in alternatives
    )
