"""Image bombs posted at once to a real gateway, its resident memory read around them.

Memory comes from ``/proc/<pid>/status`` (Linux): ``VmRSS`` now, and ``VmHWM``
(the peak) after ``clear_refs`` restarted it, so a peak between two samples
is not missed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests import bombs
from tests.integration.stack import Stack

# name -> (file, the status and code the gateway answers)
BOMBS: dict[str, tuple[bytes, int, str]] = {
    "webp-13000-in-1x1": (
        bombs.webp_canvas_around(canvas=(1, 1), frame=(13_000, 13_000)),
        413,
        "too_large",
    ),
    "webp-4000-in-1x1": (
        bombs.webp_canvas_around(canvas=(1, 1), frame=(4_000, 4_000)),
        400,
        "invalid_media",
    ),
    "gif-30000-in-1x1": (bombs.gif(screen=(1, 1), images=((30_000, 30_000),)), 413, "too_large"),
    "apng-3000-in-1x1": (bombs.apng(size=(1, 1), frame=(3_000, 3_000)), 400, "invalid_media"),
}


@dataclass(frozen=True)
class Memory:
    """A process's resident memory before, at the peak during, and after some work, in MB."""

    baseline_mb: float
    peak_mb: float
    after_mb: float


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no {field} in /proc/{pid}/status")


def post_at_once(stack: Stack, *, owner: str, bomb: str, copies: int) -> list[httpx.Response]:
    """``copies`` face-swap submissions of ``bomb`` as the target, all sent together."""
    data = BOMBS[bomb][0]
    source = bombs.grey_png(8, 8)  # the gateway accepts it; the bomb is the target
    start = threading.Barrier(copies)
    responses: list[httpx.Response] = []

    def submit() -> None:
        with stack.client(owner) as client:
            start.wait()
            files = {"source": ("source.png", source), "target": (f"{bomb}.img", data)}
            responses.append(client.post("/v1/jobs/face-swap", files=files))

    threads = [threading.Thread(target=submit) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def measure_bomb(
    stack: Stack, *, owner: str, bomb: str, copies: int
) -> tuple[list[httpx.Response], Memory]:
    """The gateway's answers to ``copies`` concurrent ``bomb`` submissions, and its memory."""
    assert stack.gateway is not None
    pid = stack.gateway.pid
    baseline = _status_mb(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM restarts from the RSS now
    responses = post_at_once(stack, owner=owner, bomb=bomb, copies=copies)
    memory = Memory(
        baseline_mb=baseline, peak_mb=_status_mb(pid, "VmHWM"), after_mb=_status_mb(pid, "VmRSS")
    )
    return responses, memory
