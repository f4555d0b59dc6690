"""Three CPU workers, one gateway: engine affinity, fail-fast placement, heartbeats, metrics."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.stack import Stack, free_port, wait_for_job, wait_until

NAMES = ["w1", "w2", "w3"]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, dict[str, int]]]:
    stack = Stack(tmp_path_factory.mktemp("fleet"))
    ports = {name: free_port() for name in NAMES}
    try:
        stack.start(workers=0)
        for name in NAMES:
            stack.start_worker(name, wait=False, metrics_port=ports[name])
        for name in NAMES:
            wait_until(lambda n=name: stack.worker_info(n), timeout_s=60, what=f"worker {name}")
        yield stack, ports
    finally:
        stack.stop()


def loaded_piper(info: dict[str, object]) -> bool:
    engines = info["engines"]
    assert isinstance(engines, list)
    return any(e["name"] == "tts.piper" and e["loaded"] for e in engines)


def test_repeat_jobs_go_to_the_worker_that_has_the_engine(
    fleet: tuple[Stack, dict[str, int]],
) -> None:
    stack, _ = fleet
    with stack.client() as client:
        first = client.post("/v1/jobs/tts", data={"text": "Warm up."}).json()
        done = wait_for_job(client, first["id"], timeout_s=120)
        assert done["status"] == "succeeded", stack.logs()
        warm = done["worker"]
        for index in range(4):
            job = client.post("/v1/jobs/tts", data={"text": f"Again, number {index}."}).json()
            finished = wait_for_job(client, job["id"], timeout_s=60)
            assert (finished["status"], finished["worker"]) == ("succeeded", warm)
    infos = {name: stack.worker_info(name) for name in NAMES}
    assert all(infos.values())
    assert [name for name, info in infos.items() if info and loaded_piper(info)] == [warm]
    warm_info = infos[warm]
    assert warm_info is not None
    [piper] = [e for e in warm_info["engines"] if e["name"] == "tts.piper"]
    assert piper["load_count"] == 1 and piper["uses"] == 5


def test_gpu_only_job_without_a_gpu_worker_fails_fast(
    fleet: tuple[Stack, dict[str, int]],
) -> None:
    stack, _ = fleet
    with stack.client() as client:
        response = client.post("/v1/jobs/noop-gpu", data={"sleep_s": "0"})
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "no_capable_worker"
        assert int(response.headers["retry-after"]) > 0
        assert client.get("/v1/jobs", params={"pipeline": "noop-gpu"}).json()["data"] == []


def test_heartbeat_reports_device_memory_queues_and_metrics_port(
    fleet: tuple[Stack, dict[str, int]],
) -> None:
    stack, ports = fleet
    info = stack.worker_info("w2")
    assert info is not None
    assert info["device"] == "cpu" and info["device_name"] not in ("", "cpu:0")
    assert 0 < info["memory_free_bytes"] <= info["memory_total_bytes"]
    assert info["queues"] == ["vv.cpu", "vv.worker.w2"]
    assert info["metrics_port"] == ports["w2"]


def test_each_worker_serves_its_own_metrics(fleet: tuple[Stack, dict[str, int]]) -> None:
    stack, ports = fleet
    with stack.client() as client:
        job = client.post("/v1/jobs/tts", data={"text": "Metrics, please."}).json()
        worker = wait_for_job(client, job["id"], timeout_s=120)["worker"]
    text = httpx.get(f"http://127.0.0.1:{ports[worker]}/metrics", timeout=5).text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }

    def value(name: str, **labels: str) -> float:
        return sum(
            v
            for (n, got), v in samples.items()
            if n == name and labels.items() <= dict(got).items()
        )

    assert value("visiovox_worker_engine_load_seconds", engine="tts.piper") > 0
    assert value("visiovox_worker_jobs_total", pipeline="tts", status="succeeded") >= 1
    assert value("visiovox_worker_job_seconds_count", pipeline="tts") >= 1
    assert value("visiovox_worker_stage_seconds_count", pipeline="tts", stage="synthesize") >= 1
    assert value("visiovox_worker_stage_seconds_count", pipeline="tts", stage="encode") >= 1
    assert value("visiovox_worker_device_memory_bytes", kind="total") > 0
    assert value("visiovox_worker_state", state="ready") == 1
