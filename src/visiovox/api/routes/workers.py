"""The live workers, as their heartbeats describe them."""

from __future__ import annotations

from fastapi import APIRouter

from visiovox.api.deps import CallerDep, WorkersDep
from visiovox.api.schemas import ErrorBody, WorkerList, WorkerOut

router = APIRouter(prefix="/v1/workers", tags=["workers"])


@router.get("", response_model=WorkerList, responses={401: {"model": ErrorBody}})
def list_workers(_: CallerDep, registry: WorkersDep) -> WorkerList:
    """Workers whose heartbeat is fresh: device, state, loaded engines, current job."""
    return WorkerList(data=[WorkerOut.from_info(w) for w in registry.live()])
