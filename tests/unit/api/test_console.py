"""The console's files: served at ``/`` and ``/console/`` without a key, nothing else under them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.conftest import SettingsFactory
from visiovox.api.app import create_app
from visiovox.api.routes.console import CONTENT_SECURITY_POLICY
from visiovox.console import CONSOLE_FILES


@pytest.fixture
def guarded(make_settings: SettingsFactory) -> Iterator[TestClient]:
    """A gateway with auth on: the console must still load."""
    with TestClient(create_app(make_settings(auth={"enabled": "on"}))) as client:
        yield client


def test_the_page_and_its_files_need_no_key(guarded: TestClient) -> None:
    page = guarded.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert 'src="console/js/app.js"' in page.text
    for name in CONSOLE_FILES:
        assert guarded.get(f"/console/{name}").status_code == 200, name
    script = guarded.get("/console/js/app.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert guarded.get("/console/config.json").json() == {"auth": True}
    assert guarded.get("/v1/pipelines").status_code == 401


def test_no_other_file_is_served(guarded: TestClient) -> None:
    for name in ("../__init__.py", "..%2F__init__.py", "js/../../__init__.py", "missing.js", ""):
        response = guarded.get(f"/console/{name}")
        assert response.status_code == 404, name
        assert response.json()["error"]["code"] in ("not_found", "file_not_found"), name


def test_the_console_is_not_in_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path == "/" or path.startswith("/console")]
    assert client.get("/console/config.json").json() == {"auth": False}


def test_every_module_the_page_imports_is_served() -> None:
    imports = {
        line.split('"./')[1].split('"')[0]
        for name, path in CONSOLE_FILES.items()
        if name.endswith(".js")
        for line in path.read_text().splitlines()
        if line.startswith("import ") and '"./' in line
    }
    assert imports and {f"js/{module}" for module in imports} <= set(CONSOLE_FILES)
