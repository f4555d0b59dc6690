"""The scheduler's placement rules, on heartbeats built in memory (``place`` does no I/O)."""

from __future__ import annotations

import pytest

from visiovox.jobs.placement import Needs
from visiovox.jobs.queues import DeviceClass, Priority
from visiovox.jobs.scheduler import NoCapableWorker, place
from visiovox.jobs.workers import WorkerInfo, WorkerState

ANY_DEVICE = frozenset({DeviceClass.CPU, DeviceClass.GPU})
TTS = Needs(pipeline="tts", devices=ANY_DEVICE, engines=frozenset({"tts.piper"}))
NOOP = Needs(pipeline="noop", devices=ANY_DEVICE)
NOOP_GPU = Needs(pipeline="noop-gpu", devices=frozenset({DeviceClass.GPU}))
CPU_ONLY = Needs(pipeline="cpu-only", devices=frozenset({DeviceClass.CPU}))


def worker(
    name: str,
    *,
    device: str = "cpu",
    state: WorkerState = WorkerState.READY,
    engines: tuple[str, ...] = (),
    jobs_done: int = 0,
) -> WorkerInfo:
    return WorkerInfo(
        name=name,
        host="h",
        pid=1,
        device=device,
        state=state,
        engines=[{"name": e, "loaded": True} for e in engines],
        jobs_done=jobs_done,
    )


def test_gpu_capable_pipeline_prefers_a_gpu_worker() -> None:
    route = place(TTS, [worker("c1"), worker("g1", device="cuda:0")])
    assert (route.device_class, route.queue) == (DeviceClass.GPU, "vv.gpu")


def test_falls_back_to_cpu_when_no_gpu_worker_is_registered() -> None:
    route = place(TTS, [worker("c1")])
    assert (route.device_class, route.queue) == (DeviceClass.CPU, "vv.cpu")


def test_cpu_only_pipeline_never_goes_to_a_gpu_worker() -> None:
    assert place(CPU_ONLY, [worker("c1"), worker("g1", device="cuda:1")]).queue == "vv.cpu"
    with pytest.raises(NoCapableWorker, match="cpu-only"):
        place(CPU_ONLY, [worker("g1", device="cuda:1")])


def test_gpu_only_pipeline_without_a_gpu_worker_fails_fast() -> None:
    with pytest.raises(NoCapableWorker, match=r"needs a gpu worker.*cpu"):
        place(NOOP_GPU, [worker("c1"), worker("c2", state=WorkerState.BUSY)])


def test_draining_and_defunct_workers_do_not_count() -> None:
    gone = [
        worker("g1", device="cuda:0", state=WorkerState.DRAINING),
        worker("c1", state=WorkerState.DEFUNCT),
        worker("c2"),
    ]
    with pytest.raises(NoCapableWorker):
        place(NOOP_GPU, gone)
    assert place(TTS, gone).device_class is DeviceClass.CPU


def test_with_no_worker_at_all_the_job_waits_for_the_first() -> None:
    assert place(TTS, []).queue == "vv.cpu"
    assert place(NOOP_GPU, []).queue == "vv.gpu"


def test_idle_worker_with_the_engine_loaded_gets_it_privately() -> None:
    workers = [worker("w1"), worker("w2", engines=("tts.piper",)), worker("w3")]
    route = place(TTS, workers, priority=Priority.HIGH)
    assert (route.queue, route.worker, route.priority) == ("vv.worker.w2", "w2", Priority.HIGH)
    assert route.shared == "vv.cpu"


def test_a_busy_worker_with_the_engine_is_not_waited_for() -> None:
    workers = [worker("w1"), worker("w2", engines=("tts.piper",), state=WorkerState.BUSY)]
    route = place(TTS, workers)
    assert (route.queue, route.worker) == ("vv.cpu", None)


def test_affinity_stays_within_the_chosen_class() -> None:
    workers = [worker("c1", engines=("tts.piper",)), worker("g1", device="cuda:0")]
    assert place(TTS, workers).queue == "vv.gpu"


def test_ties_go_to_the_worker_with_fewer_jobs_done() -> None:
    workers = [
        worker("w1", engines=("tts.piper",), jobs_done=9),
        worker("w2", engines=("tts.piper",), jobs_done=2),
    ]
    assert place(TTS, workers).worker == "w2"


def test_pipelines_without_engines_use_the_shared_queue() -> None:
    assert place(NOOP, [worker("w1", engines=("tts.piper",))]).queue == "vv.cpu"
