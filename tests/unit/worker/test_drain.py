"""The drain state machine: first signal drains, a second one (or the deadline) stops now."""

from __future__ import annotations

import threading
import time

from visiovox.jobs.workers import WorkerState
from visiovox.worker.drain import EXIT_STOPPED, Drain
from visiovox.worker.state import WorkerStatus


class Recorder:
    def __init__(self) -> None:
        self.announced = 0
        self.stopped = 0
        self.exit_codes: list[int] = []
        self.exited = threading.Event()

    def announce(self) -> None:
        self.announced += 1

    def stop_now(self) -> None:
        self.stopped += 1

    def exit(self, code: int) -> None:
        self.exit_codes.append(code)
        self.exited.set()


def make_drain(timeout_s: float) -> tuple[Drain, WorkerStatus, Recorder]:
    status = WorkerStatus(name="w1", device="cpu", queues=[])
    status.set_state(WorkerState.READY)
    recorder = Recorder()
    drain = Drain(
        status=status,
        announce=recorder.announce,
        stop_now=recorder.stop_now,
        timeout_s=timeout_s,
        exit_process=recorder.exit,
    )
    drain.start()
    return drain, status, recorder


def wait_for(check: object, timeout_s: float = 2.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)


def test_first_signal_drains_and_publishes_at_once() -> None:
    drain, status, recorder = make_drain(timeout_s=30)
    drain.on_shutting_down(how="Warm")
    wait_for(lambda: recorder.announced)
    assert status.state is WorkerState.DRAINING and recorder.announced == 1
    status.job_started("j1")
    status.job_finished()
    assert status.state is WorkerState.DRAINING  # finishing a job does not make it ready
    assert recorder.exit_codes == []
    drain.close()


def test_second_signal_stops_at_once() -> None:
    drain, _status, recorder = make_drain(timeout_s=30)
    drain.on_shutting_down(how="Warm")
    drain.on_shutting_down(how="Warm")
    assert recorder.exited.wait(2)
    assert (recorder.stopped, recorder.exit_codes) == (1, [EXIT_STOPPED])
    drain.close()


def test_cold_shutdown_stops_at_once() -> None:
    drain, _status, recorder = make_drain(timeout_s=30)
    drain.on_shutting_down(how="Cold")
    assert recorder.exited.wait(2)
    assert recorder.exit_codes == [EXIT_STOPPED]
    drain.close()


def test_drain_timeout_stops_the_job() -> None:
    drain, _status, recorder = make_drain(timeout_s=0.2)
    started = time.monotonic()
    drain.on_shutting_down(how="Warm")
    assert recorder.exited.wait(10)
    assert 0.15 < time.monotonic() - started < 5
    assert recorder.stopped == 1
    drain.close()
