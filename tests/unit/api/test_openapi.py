"""The OpenAPI document (api/openapi.py): the errors the API answers and each pipeline's body."""

from __future__ import annotations

from typing import Any

import pytest

from visiovox.api.app import create_app
from visiovox.config import load_settings
from visiovox.pipelines.registry import all_specs

ERROR = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(load_settings()).openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_error_answers_the_one_error_body(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == ERROR, (method, path, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_identified_routes_document_auth_limits_and_redis(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        statuses = set(operation["responses"])
        if path.startswith("/v1/"):
            assert {"401", "429", "503"} <= statuses, (method, path)
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in statuses, (method, path)
    assert "401" not in document["paths"]["/healthz"]["get"]["responses"]


def test_submissions_document_what_the_submission_path_answers(document: dict[str, Any]) -> None:
    statuses = set(document["paths"]["/v1/jobs/{pipeline}"]["post"]["responses"])
    wanted = {"202", "400", "401", "403", "404", "409", "413", "415", "422", "429", "503", "507"}
    assert wanted <= statuses
    assert set(document["paths"]["/v1/jobs/{job_id}"]["get"]["responses"]) >= {"404", "401"}


@pytest.mark.parametrize("spec", [s for s in all_specs() if not s.live], ids=lambda s: s.name)
def test_each_pipeline_documents_its_body(document: dict[str, Any], spec: Any) -> None:
    operation = document["paths"][f"/v1/jobs/{spec.name}"]["post"]
    content = operation["requestBody"]["content"]
    params = spec.params.model_json_schema()
    json_body = content["application/json"]["schema"]
    options = {"priority", "webhook", "webhook_events"}
    assert set(params.get("properties", {})) | options == set(json_body["properties"])
    assert set(params.get("required", [])) == set(json_body["required"])
    if "multipart/form-data" in content:
        form = content["multipart/form-data"]["schema"]
        for field in spec.inputs:
            assert form["properties"][field.field]["format"] == "binary"
            assert (field.field in form.get("required", [])) == field.required
    else:
        assert spec.inputs == ()  # only pipelines without files may take JSON alone
    assert operation["parameters"][0]["name"] == "Idempotency-Key"
    assert operation["responses"]["202"]


def test_files_take_multipart_and_list_params_take_json(document: dict[str, Any]) -> None:
    paths = document["paths"]
    face_swap = paths["/v1/jobs/face-swap"]["post"]["requestBody"]["content"]
    assert set(face_swap["multipart/form-data"]["schema"]["required"]) == {"source", "target"}
    assert "application/x-www-form-urlencoded" not in face_swap
    chat = paths["/v1/jobs/chat"]["post"]["requestBody"]["content"]
    assert set(chat) == {"application/json"}
    assert "/v1/jobs/assistant-live" not in paths
