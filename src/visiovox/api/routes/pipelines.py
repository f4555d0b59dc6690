"""The pipelines this deployment offers: params schema and accepted inputs of each."""

from __future__ import annotations

from fastapi import APIRouter

from visiovox.api.deps import CallerDep
from visiovox.api.schemas import ErrorBody, PipelineList, PipelineOut
from visiovox.pipelines.registry import all_specs

router = APIRouter(prefix="/v1/pipelines", tags=["pipelines"])


@router.get("", response_model=PipelineList, responses={401: {"model": ErrorBody}})
async def list_pipelines(_: CallerDep) -> PipelineList:
    """Every pipeline: name, summary, params as JSON Schema, file inputs and their kinds."""
    return PipelineList(data=[PipelineOut.from_spec(spec) for spec in all_specs()])
