"""The worker's ``SegmentWork``: a job's part in a split across the fleet, backed by Redis.

The split places the segment jobs with the scheduler's own rules
(``jobs/scheduler.py``) on the live workers' heartbeats, always on the shared
queue of the chosen device class (any capable worker takes the next segment,
never one worker's private queue). Segment files cross workers through the
storage backend (``jobs/storage.py``): a stitch reads a segment's file in
place on the local folder and fetches a copy from a remote one.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from visiovox.errors import JobCanceled
from visiovox.jobs.model import Job
from visiovox.jobs.queues import Route
from visiovox.jobs.redis_client import JobDomain
from visiovox.jobs.segments import (
    FanOut,
    SegmentJob,
    SegmentRole,
    SegmentsPlanned,
    SplitRefused,
)

# Under the storage root: local copies of segments fetched from a remote backend.
FETCHED = "scratch"


class RedisSegmentWork:
    """One attempt's part in a split: split, report a segment's frames, read the segments."""

    def __init__(
        self,
        *,
        job: Job,
        domain: JobDomain,
        worker: str,
        fan_out: FanOut,
        place: Callable[[], Route],
        fleet_size: Callable[[], int],
        report_interval_s: float,
    ) -> None:
        self._job = job
        self._domain = domain
        self._worker = worker
        self._fan_out = fan_out
        self._place = place
        self._fleet_size = fleet_size
        self._interval_s = report_interval_s
        self._last_report = 0.0
        self._fetched = domain.files.root / FETCHED / f"{job.id}-segments"
        self.role = SegmentRole.of(job)

    def split(self, children: list[SegmentJob]) -> NoReturn:
        try:
            self._fan_out.split(
                self._job, worker=self._worker, children=children, route=self._place()
            )
        except SplitRefused as exc:
            if exc.reason == "canceled":
                raise JobCanceled(self._job.id) from exc
            raise
        raise SegmentsPlanned(self._job.id)

    def fleet_size(self) -> int:
        return max(1, self._fleet_size())

    def report(self, frames_done: int) -> None:
        frames = int((self._job.segment or {}).get("frames", 0))
        now = time.monotonic()
        if frames_done < frames and now - self._last_report < self._interval_s:
            return
        self._last_report = now
        self._fan_out.segment_progress(self._job, frames_done=frames_done)

    def share(self, name: str, path: Path) -> None:
        files = self._domain.files
        if files.local_output_path(self._job.id, name) is None:
            files.put_output(self._job.id, name, path)

    def shared(self, name: str) -> Path:
        parent_id = self._job.parent_id
        if parent_id is None:
            raise RuntimeError(f"job {self._job.id} is no segment: it has no parent's files")
        return self._local_output(parent_id, name)

    def child_output(self, child_id: str, name: str) -> Path:
        return self._local_output(child_id, name)

    def _local_output(self, job_id: str, name: str) -> Path:
        """The stored output of ``job_id`` itself on the local folder, else a fetched copy."""
        files = self._domain.files
        local = files.local_output_path(job_id, name)
        if local is not None:
            return local
        dest = self._fetched / f"{job_id}-{name}"
        if not dest.exists():
            files.fetch_output(job_id, name, dest)
        return dest

    def child_result(self, child_id: str) -> dict[str, Any]:
        child = self._domain.store.get(child_id)
        return dict(child.result or {}) if child is not None else {}

    def discard_children(self) -> None:
        for child_id in self.role.children:
            self._domain.files.delete_job(child_id)
        shutil.rmtree(self._fetched, ignore_errors=True)

    def close(self) -> None:
        """Drop the local copies fetched for this attempt (a remote backend's)."""
        shutil.rmtree(self._fetched, ignore_errors=True)
