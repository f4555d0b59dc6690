"""The gateway's Prometheus metrics: its own requests, and the deployment read from Redis.

Two kinds of series:

- Per gateway process: ``visiovox_http_requests_total`` by method, route
  template and status, counted by an ASGI middleware. With
  ``gateway.processes`` > 1, ``visiovox serve`` points
  ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before uvicorn spawns its
  processes, and every process answers ``/metrics`` with the sum over all of
  them (prometheus-client's multiprocess mode).
- Deployment-wide, read from Redis at scrape time, identical on every gateway
  (aggregate them with ``max``, not ``sum``): jobs by pipeline and status,
  dispatch and run time histograms (counted once per job by the transitions
  themselves, ``jobs/stats.py``), queue depth per queue and priority, queued
  jobs per pipeline (what the cap counts), live workers by device class and
  state, and live sessions (workers whose current job is a live pipeline's):
  their number, in all and by pipeline, and, from the figures a session puts in
  its worker's heartbeat, the frames of the sessions hosted now (in, out,
  dropped) and their latency as a gauge histogram (those sessions' answers;
  it falls when a session ends, so it is not a counter).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import redis.asyncio
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visiovox.jobs.keys import RedisKeys
from visiovox.jobs.queues import PRIORITY_STEPS, Priority, queue_lists, shared_queues
from visiovox.jobs.stats import read_stats
from visiovox.jobs.workers import LIVE_LATENCY_BUCKETS_MS, WorkerInfo, WorkerState
from visiovox.pipelines.registry import all_specs

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_PRIORITY_OF_STEP = {p.step: p.value for p in Priority}


class GatewayMetrics:
    """This process's request counter and the ``/metrics`` page."""

    def __init__(self) -> None:
        self._multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        # In multiprocess mode values live in files and are collected from them.
        self._own = None if self._multiprocess else CollectorRegistry()
        self.requests = Counter(
            "visiovox_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self._own,
        )

    def render(self, deployment: list[Metric]) -> bytes:
        """The exposition text: this gateway's series, then the deployment's."""
        registry = CollectorRegistry()
        registry.register(_Fixed(deployment))
        if self._multiprocess:
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
            return generate_latest(registry)
        assert self._own is not None
        return generate_latest(self._own) + generate_latest(registry)


class _Fixed(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self._metrics


class RequestMetrics:
    """ASGI middleware: counts each HTTP request by its route template, once it answers."""

    def __init__(self, app: ASGIApp, *, metrics: GatewayMetrics) -> None:
        self._app = app
        self._requests = metrics.requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        status = 500

        async def send_counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_counting)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self._requests.labels(scope["method"], route, str(status)).inc()


async def deployment_metrics(
    client: redis.asyncio.Redis,
    *,
    keys: RedisKeys,
    workers: list[WorkerInfo],
    pipelines: list[str],
) -> list[Metric]:
    """The deployment's series, read from Redis in one round trip (plus the workers')."""
    queues = [*shared_queues(keys.prefix), *(q for w in workers for q in w.queues)]
    queues = list(dict.fromkeys(queues))
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(keys.stats)
    for queue in queues:
        for name in queue_lists(queue):
            pipe.llen(name)
    for pipeline in pipelines:
        pipe.zcard(keys.queued(pipeline))
    replies: list[Any] = await pipe.execute()
    stats = read_stats(replies[0])
    lengths = replies[1 : 1 + len(queues) * len(PRIORITY_STEPS)]
    queued = replies[1 + len(queues) * len(PRIORITY_STEPS) :]

    jobs = CounterMetricFamily(
        "visiovox_jobs",
        "Jobs by pipeline and status: queued on submission, running per attempt, then terminal.",
        labels=["pipeline", "status"],
    )
    for (pipeline, status), count in sorted(stats.jobs.items()):
        jobs.add_metric([pipeline, status], count)
    metrics: list[Metric] = [jobs]
    for hist, help_text in (
        ("dispatch", "Seconds from submission to a worker's first start of the job."),
        ("run", "Seconds from a job's start to its terminal state."),
    ):
        family = HistogramMetricFamily(
            f"visiovox_job_{hist}_seconds", help_text, labels=["pipeline"]
        )
        for pipeline, histogram in sorted(stats.histograms.get(hist, {}).items()):
            buckets = [(_le(bound), count) for bound, count in histogram.buckets]
            family.add_metric([pipeline], buckets, histogram.total)
        metrics.append(family)

    depth = GaugeMetricFamily(
        "visiovox_queue_depth",
        "Messages waiting per queue and priority.",
        labels=["queue", "priority"],
    )
    for index, name in enumerate(queues):
        for step_index, step in enumerate(PRIORITY_STEPS):
            if step in _PRIORITY_OF_STEP:
                length = lengths[index * len(PRIORITY_STEPS) + step_index]
                depth.add_metric([name, _PRIORITY_OF_STEP[step]], int(length))
    queued_jobs = GaugeMetricFamily(
        "visiovox_queued_jobs",
        "Jobs waiting for a worker, per pipeline (what the queue-depth cap counts).",
        labels=["pipeline"],
    )
    for pipeline, count in zip(pipelines, queued, strict=True):
        queued_jobs.add_metric([pipeline], int(count))
    live = GaugeMetricFamily(
        "visiovox_workers",
        "Live workers by device class and state.",
        labels=["device_class", "state"],
    )
    for device_class in ("cpu", "gpu"):
        for state in WorkerState:
            count = sum(1 for w in workers if w.state is state and _class(w.device) == device_class)
            live.add_metric([device_class, state.value], count)
    sessions = GaugeMetricFamily("visiovox_live_sessions", "Live sessions being hosted.")
    live_pipelines = {spec.name for spec in all_specs() if spec.live}
    sessions.add_metric([], sum(1 for w in workers if w.current_pipeline in live_pipelines))
    return [*metrics, depth, queued_jobs, live, sessions, *_live_sessions(workers, live_pipelines)]


def _live_sessions(workers: list[WorkerInfo], live_pipelines: set[str]) -> list[Metric]:
    """Live sessions by pipeline, and the frames and latency of those hosted now."""
    by_pipeline = GaugeMetricFamily(
        "visiovox_live_sessions_by_pipeline",
        "Live sessions being hosted, by pipeline (the kind of session).",
        labels=["pipeline"],
    )
    frames = GaugeMetricFamily(
        "visiovox_live_frames",
        "Frames of the live sessions hosted now: received, answered, dropped.",
        labels=["pipeline", "kind"],
    )
    latency = GaugeHistogramMetricFamily(
        "visiovox_live_latency_ms",
        "Milliseconds from a frame's arrival on the worker to its answer, "
        "over the live sessions hosted now.",
        labels=["pipeline"],
    )
    bounds = [*(repr(bound) for bound in LIVE_LATENCY_BUCKETS_MS), "+Inf"]
    for pipeline in sorted(live_pipelines):
        hosting = [w for w in workers if w.current_pipeline == pipeline]
        by_pipeline.add_metric([pipeline], len(hosting))
        reports = [w.live_session for w in hosting if w.live_session is not None]
        totals = {
            "in": sum(r.frames_in for r in reports),
            "out": sum(r.frames_out for r in reports),
            "dropped": sum(r.dropped for r in reports),
        }
        for kind, total in totals.items():
            frames.add_metric([pipeline, kind], total)
        counts = [0] * len(bounds)
        for report in reports:
            # A worker of another release may bound its buckets differently: left out.
            if len(report.latency_buckets) == len(bounds):
                counts = [a + b for a, b in zip(counts, report.latency_buckets, strict=True)]
        buckets = list(zip(bounds, counts, strict=True))
        latency.add_metric([pipeline], buckets, sum(r.latency_sum_ms for r in reports))
    return [by_pipeline, frames, latency]


def _class(device: str) -> str:
    return "cpu" if device == "cpu" else "gpu"


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)
