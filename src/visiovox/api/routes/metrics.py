"""``GET /metrics``: Prometheus exposition of this gateway and of the deployment."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from visiovox.api.deps import KeysDep, RedisDep, WorkersDep
from visiovox.api.metrics import GatewayMetrics, deployment_metrics
from visiovox.pipelines.registry import PIPELINES

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
async def metrics(
    request: Request, client: RedisDep, keys: KeysDep, registry: WorkersDep
) -> Response:
    """Request counts (this gateway), jobs, queues and workers (the deployment, from Redis)."""
    workers = await registry.live_async(client)
    deployment = await deployment_metrics(
        client, keys=keys, workers=workers, pipelines=list(PIPELINES)
    )
    own: GatewayMetrics = request.app.state.metrics
    return Response(own.render(deployment), media_type=CONTENT_TYPE_LATEST)
