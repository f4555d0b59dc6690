"""The model catalogue, in the OpenAI list shape: ``{"object": "list", "data": [...]}``.

Each entry carries OpenAI's ``id``, ``object``, ``created`` and ``owned_by``
plus the manifest's task, engine, size, licence, sources and whether this
deployment's model cache holds it verified. Reads the manifest and the cache's
stamps only: no hashing, no engine imports.
"""

from __future__ import annotations

from fastapi import APIRouter

from visiovox.api.deps import CallerDep, SettingsDep
from visiovox.api.schemas import ErrorBody, ModelList, ModelOut
from visiovox.models.catalog import model_rows
from visiovox.models.manifest import resolve_manifest_path

router = APIRouter(prefix="/v1/models", tags=["models"])


# A plain ``def``: it stats files, so FastAPI runs it in the threadpool, off the event loop.
@router.get("", response_model=ModelList, responses={401: {"model": ErrorBody}})
def list_models(_: CallerDep, settings: SettingsDep) -> ModelList:
    """Every model of the manifest and whether it is installed."""
    created = int(resolve_manifest_path(settings.models.manifest).stat().st_mtime)
    return ModelList(data=[ModelOut.from_row(row, created=created) for row in model_rows(settings)])
