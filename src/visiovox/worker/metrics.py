"""The worker's own Prometheus endpoint (``worker.metrics_port``; 0 turns it off).

A worker runs one job at a time in one process (the solo pool), so plain
in-process metrics are exact. Recorded per attempt: run time by pipeline and
outcome, and time per declared stage. Read at scrape time: engine load time
and load count (from the engine pool), device memory (NVML or RAM, from the
same probe as the heartbeat) and the lifecycle state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from visiovox.engines.pool import EnginePool
from visiovox.jobs.stats import RUN_BUCKETS_S
from visiovox.jobs.workers import WorkerState
from visiovox.worker.device import DeviceProbe
from visiovox.worker.state import WorkerStatus

log = logging.getLogger(__name__)

STAGE_BUCKETS_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


class _ScrapeTimeCollector(Collector):
    """Engine, device and state figures, read when Prometheus scrapes."""

    def __init__(self, *, status: WorkerStatus, pool: EnginePool, probe: DeviceProbe) -> None:
        self._status = status
        self._pool = pool
        self._probe = probe

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        load_time = GaugeMetricFamily(
            "visiovox_worker_engine_load_seconds",
            "Seconds the engine's last load took.",
            labels=["engine", "device"],
        )
        loads = CounterMetricFamily(
            "visiovox_worker_engine_loads",
            "Times the engine was loaded in this process.",
            labels=["engine", "device"],
        )
        loaded = GaugeMetricFamily(
            "visiovox_worker_engine_loaded",
            "1 while the engine is loaded.",
            labels=["engine", "device"],
        )
        for stats in self._pool.stats():
            labels = [stats.name, stats.device]
            load_time.add_metric(labels, stats.load_time_s)
            loads.add_metric(labels, stats.loads)
            loaded.add_metric(labels, 1.0 if stats.loaded else 0.0)
        yield from (load_time, loads, loaded)
        report = self._probe.read()
        memory = GaugeMetricFamily(
            "visiovox_worker_device_memory_bytes",
            "Device memory (GPU via NVML, else system RAM): total and free.",
            labels=["device", "device_name", "kind"],
        )
        for kind, value in (("total", report.total_bytes), ("free", report.free_bytes)):
            if value is not None:
                memory.add_metric([self._status.device, report.name, kind], value)
        yield memory
        state = GaugeMetricFamily(
            "visiovox_worker_state", "1 for the worker's current state.", labels=["state"]
        )
        current = self._status.state
        for candidate in WorkerState:
            state.add_metric([candidate.value], 1.0 if candidate is current else 0.0)
        yield state


class WorkerMetrics:
    """The worker's metrics registry; ``observe_job`` is the runner's hook."""

    def __init__(self, *, status: WorkerStatus, pool: EnginePool, probe: DeviceProbe) -> None:
        self.registry = CollectorRegistry()
        self._jobs = Counter(
            "visiovox_worker_jobs",
            "Job attempts this worker ran, by pipeline and outcome.",
            ["pipeline", "status"],
            registry=self.registry,
        )
        self._job_seconds = Histogram(
            "visiovox_worker_job_seconds",
            "Seconds a job attempt ran on this worker.",
            ["pipeline"],
            buckets=RUN_BUCKETS_S,
            registry=self.registry,
        )
        self._stage_seconds = Histogram(
            "visiovox_worker_stage_seconds",
            "Seconds spent in each stage a pipeline declared.",
            ["pipeline", "stage"],
            buckets=STAGE_BUCKETS_S,
            registry=self.registry,
        )
        self.registry.register(_ScrapeTimeCollector(status=status, pool=pool, probe=probe))

    def observe_job(
        self, *, pipeline: str, status: str, seconds: float, stages: list[tuple[str, float]]
    ) -> None:
        self._jobs.labels(pipeline, status).inc()
        self._job_seconds.labels(pipeline).observe(seconds)
        for stage, stage_seconds in stages:
            self._stage_seconds.labels(pipeline, stage).observe(stage_seconds)

    def serve(self, *, host: str, port: int) -> bool:
        """Serve ``/metrics`` on a daemon thread; False (logged) when the port is taken."""
        try:
            start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            log.error("worker metrics not served on %s:%d: %s", host, port, exc)
            return False
        log.info("worker metrics on http://%s:%d/metrics", host, port)
        return True
