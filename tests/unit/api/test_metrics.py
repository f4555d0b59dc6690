"""``GET /metrics`` parses as Prometheus text with the gateway's and the deployment's series."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from visiovox.jobs.model import JobStatus
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.workers import LiveFigures, WorkerInfo, WorkerRegistry, WorkerState

Samples = dict[str, list[tuple[dict[str, str], float]]]


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    matching = [v for got, v in samples.get(name, []) if labels.items() <= got.items()]
    assert matching, f"no {name} with {labels}; have {samples.get(name)}"
    return sum(matching)


def test_metrics_has_requests_jobs_queues_workers_and_histograms(
    client: TestClient, domain: JobDomain
) -> None:
    prefix = domain.keys.prefix
    WorkerRegistry(domain.redis, keys=domain.keys, ttl_s=5).publish(
        WorkerInfo(
            name="w1",
            host="h",
            pid=1,
            device="cpu",
            state=WorkerState.BUSY,
            queues=[f"{prefix}.cpu", f"{prefix}.worker.w1"],
        )
    )
    ids = [client.post("/v1/jobs/noop", json={"sleep_s": 0}).json()["id"] for _ in range(3)]
    client.post("/v1/jobs/noop", json={"priority": "high"})
    client.get("/v1/jobs/nope")
    domain.store.claim(ids[0], "w1")
    domain.store.finish(ids[0], worker="w1", status=JobStatus.SUCCEEDED)

    samples = scrape(client)
    requests = "visiovox_http_requests_total"
    assert value(samples, requests, route="/v1/jobs/{pipeline}", status="202") == 4
    assert value(samples, requests, route="/v1/jobs/{job_id}", status="404") == 1
    assert value(samples, "visiovox_jobs_total", pipeline="noop", status="queued") == 4
    assert value(samples, "visiovox_jobs_total", pipeline="noop", status="succeeded") == 1
    for hist in ("dispatch", "run"):
        name = f"visiovox_job_{hist}_seconds"
        assert value(samples, f"{name}_count", pipeline="noop") == 1
        assert value(samples, f"{name}_bucket", pipeline="noop", le="+Inf") == 1
    assert value(samples, "visiovox_queue_depth", queue=f"{prefix}.cpu", priority="normal") >= 2
    assert value(samples, "visiovox_queue_depth", queue=f"{prefix}.cpu", priority="high") >= 1
    assert value(samples, "visiovox_queue_depth", queue=f"{prefix}.worker.w1", priority="low") == 0
    assert value(samples, "visiovox_queued_jobs", pipeline="noop") == 3
    assert value(samples, "visiovox_workers", device_class="cpu", state="busy") == 1
    assert value(samples, "visiovox_workers", device_class="gpu") == 0
    assert value(samples, "visiovox_live_sessions") == 0
    # The scrape itself is counted by the next one.
    assert value(scrape(client), requests, route="/metrics", status="200") >= 1


def test_live_sessions_by_pipeline_with_their_frames_and_latency(
    client: TestClient, domain: JobDomain
) -> None:
    registry = WorkerRegistry(domain.redis, keys=domain.keys, ttl_s=5)
    buckets = [0, 1, 3, 5, 6, 6, 6, 6, 6, 6, 7]  # cumulative, +Inf last
    reporting = LiveFigures(
        frames_in=9, frames_out=7, dropped=2, latency_buckets=buckets, latency_sum_ms=420.0
    )
    for name, figures in (("w1", reporting), ("w2", None)):  # w2 has not reported yet
        registry.publish(
            WorkerInfo(
                name=name,
                host="h",
                pid=1,
                device="cpu",
                state=WorkerState.BUSY,
                current_job=f"job-{name}",
                current_pipeline="face-swap-live",
                live_session=figures,
            )
        )

    samples = scrape(client)
    by_pipeline = "visiovox_live_sessions_by_pipeline"
    assert value(samples, by_pipeline, pipeline="face-swap-live") == 2
    assert value(samples, by_pipeline, pipeline="assistant-live") == 0
    assert value(samples, "visiovox_live_sessions") == 2
    frames = "visiovox_live_frames"
    assert value(samples, frames, pipeline="face-swap-live", kind="in") == 9
    assert value(samples, frames, pipeline="face-swap-live", kind="out") == 7
    assert value(samples, frames, pipeline="face-swap-live", kind="dropped") == 2
    latency = "visiovox_live_latency_ms"
    assert value(samples, f"{latency}_bucket", pipeline="face-swap-live", le="20.0") == 1
    assert value(samples, f"{latency}_bucket", pipeline="face-swap-live", le="50.0") == 5
    assert value(samples, f"{latency}_bucket", pipeline="face-swap-live", le="+Inf") == 7
    assert value(samples, f"{latency}_gsum", pipeline="face-swap-live") == 420.0
    assert value(samples, f"{latency}_gcount", pipeline="face-swap-live") == 7

    workers = {w["name"]: w for w in client.get("/v1/workers").json()["data"]}
    assert workers["w1"]["live_session"]["frames_out"] == 7
    assert workers["w1"]["live_session"]["latency_buckets"] == buckets
    assert workers["w2"]["live_session"] is None
