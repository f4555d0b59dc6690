"""``GET /metrics``: Prometheus exposition of this gateway and of the deployment.

Never public where the API is not: with ``gateway.metrics_token`` set, only
``Authorization: Bearer <token>`` opens it (Prometheus's ``authorization``
scrape option; API keys do not); unset, it asks for an API key as every route
does when auth is on. A refusal is 401 ``unauthorized``.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import HTTPConnection

from visiovox.api.deps import AuthDep, KeysDep, RedisDep, SettingsDep, WorkersDep
from visiovox.api.errors import ApiError
from visiovox.api.metrics import GatewayMetrics, deployment_metrics
from visiovox.api.schemas import ErrorBody
from visiovox.pipelines.registry import PIPELINES
from visiovox.webhooks.metrics import webhook_metrics

router = APIRouter(tags=["health"])


async def _scraper(conn: HTTPConnection, settings: SettingsDep, auth: AuthDep) -> None:
    """Let the scrape through, or answer 401."""
    token = settings.gateway.metrics_token
    if token is None:
        await auth.caller(conn)
        return
    expected = f"Bearer {token.get_secret_value()}".encode()
    if not hmac.compare_digest(conn.headers.get("authorization", "").encode(), expected):
        raise ApiError(
            401,
            "unauthorized",
            "/metrics needs Authorization: Bearer <gateway.metrics_token>",
            headers={"WWW-Authenticate": "Bearer"},
        )


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(_scraper)],
    responses={401: {"model": ErrorBody}},
)
async def metrics(
    request: Request, client: RedisDep, keys: KeysDep, registry: WorkersDep
) -> Response:
    """Request counts (this gateway); jobs, queues, workers and webhooks (the deployment)."""
    workers = await registry.live_async(client)
    deployment = await deployment_metrics(
        client, keys=keys, workers=workers, pipelines=list(PIPELINES)
    )
    deployment += await webhook_metrics(client, keys=keys)
    own: GatewayMetrics = request.app.state.metrics
    return Response(own.render(deployment), media_type=CONTENT_TYPE_LATEST)
