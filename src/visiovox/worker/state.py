"""This worker's identity and lifecycle state, shared by the task and the heartbeat thread."""

from __future__ import annotations

import os
import socket
import threading
import time

from visiovox.jobs.workers import LiveFigures, WorkerInfo, WorkerState
from visiovox.worker.device import DeviceReport


class WorkerStatus:
    """Thread-safe state of one worker process; ``changed`` wakes the heartbeat."""

    def __init__(
        self, *, name: str, device: str, queues: list[str], metrics_port: int | None = None
    ) -> None:
        self.name = name
        self.device = device
        self.queues = queues
        self.metrics_port = metrics_port
        self.changed = threading.Event()
        self._lock = threading.Lock()
        self._state = WorkerState.STARTING
        self._current_job: str | None = None
        self._current_pipeline: str | None = None
        self._live_session: LiveFigures | None = None
        self._jobs_done = 0
        self._started_at = time.time()

    @property
    def current_job(self) -> str | None:
        with self._lock:
            return self._current_job

    @property
    def state(self) -> WorkerState:
        with self._lock:
            return self._state

    def set_state(self, state: WorkerState) -> None:
        with self._lock:
            self._state = state
        self.changed.set()

    def start_draining(self) -> bool:
        """Enter ``draining`` (no new jobs); False if it already was."""
        with self._lock:
            if self._state is WorkerState.DRAINING:
                return False
            self._state = WorkerState.DRAINING
        self.changed.set()
        return True

    def job_started(self, job_id: str, pipeline: str | None = None) -> None:
        with self._lock:
            self._current_job = job_id
            self._current_pipeline = pipeline
            if self._state is WorkerState.READY:
                self._state = WorkerState.BUSY
        self.changed.set()

    def live_figures(self, figures: LiveFigures) -> None:
        """The hosted live session's latest figures, carried by the next heartbeat."""
        with self._lock:
            self._live_session = figures

    def job_finished(self) -> None:
        with self._lock:
            self._current_job = None
            self._current_pipeline = None
            self._live_session = None
            self._jobs_done += 1
            if self._state is WorkerState.BUSY:
                self._state = WorkerState.READY
        self.changed.set()

    def snapshot(
        self,
        *,
        engines: list[dict[str, object]],
        device: DeviceReport,
        engine_memory: dict[str, object] | None = None,
    ) -> WorkerInfo:
        with self._lock:
            return WorkerInfo(
                name=self.name,
                host=socket.gethostname(),
                pid=os.getpid(),
                device=self.device,
                device_name=device.name,
                memory_total_bytes=device.total_bytes,
                memory_free_bytes=device.free_bytes,
                metrics_port=self.metrics_port,
                state=self._state,
                queues=self.queues,
                engines=engines,
                engine_memory=engine_memory or {},
                current_job=self._current_job,
                current_pipeline=self._current_pipeline,
                live_session=self._live_session,
                jobs_done=self._jobs_done,
                started_at=self._started_at,
            )


def default_worker_name(device: str) -> str:
    """``<host>/<device>``, unique per device on a host."""
    return f"{socket.gethostname()}/{device}"
