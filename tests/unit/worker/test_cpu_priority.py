"""A worker hosting a live session raises its CPU share (its autogroup's and every thread's
nice value) and puts it back after; where the kernel refuses, it logs and runs as before.

Each case runs in a child process started in a session (an autogroup) of its own, so the
test runner's own priority is never touched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from tests.tools import missing_tool
from visiovox.pipelines.registry import all_specs
from visiovox.worker.cpu_priority import CpuPriority

CHILD = """
import json, logging, os, sys, threading
from visiovox.engines.free_cores import FreeCores
from visiovox.pipelines.registry import all_specs
from visiovox.worker.cpu_priority import CpuPriority

if len(sys.argv) > 1:
    os.setuid(int(sys.argv[1]))  # an unprivileged user: no CAP_SYS_NICE
logging.basicConfig(stream=sys.stdout, format="LOG %(levelname)s %(message)s")
stop = threading.Event()

def snapshot(cores):
    group = open("/proc/self/autogroup").read().split("nice")[1].strip()
    threads = sorted(os.getpriority(os.PRIO_PROCESS, int(t)) for t in os.listdir("/proc/self/task"))
    return {"group": int(group), "threads": threads, "prioritised": cores.prioritised}

pool_thread = threading.Thread(target=stop.wait)  # a native pool's thread, started before
pool_thread.start()
cores = FreeCores(cores=2)
priority = CpuPriority(-10, cores=cores)
out = {"before": snapshot(cores)}
priority.raise_share()
born_raised = threading.Thread(target=stop.wait)  # started while the session runs
born_raised.start()
out["during"] = snapshot(cores)
priority.restore()
out["after"] = snapshot(cores)
priority.raise_share()  # a refusal is not retried: logged once
stop.set()
print(json.dumps(out))
"""


def _run_child(*args: str) -> tuple[dict[str, Any], list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    return json.loads(lines[-1]), [line for line in lines if line.startswith("LOG ")]


def _needs_root() -> None:
    if os.geteuid() != 0:
        missing_tool("lowering a nice value needs root (CAP_SYS_NICE); run the tests as root")


def test_live_priority_raises_the_autogroup_and_every_thread_then_restores() -> None:
    _needs_root()
    seen, logs = _run_child()

    assert seen["before"] == {"group": 0, "threads": [0, 0], "prioritised": False}
    assert seen["during"] == {"group": -10, "threads": [-10, -10, -10], "prioritised": True}
    assert seen["after"] == {"group": 0, "threads": [0, 0, 0], "prioritised": False}
    assert logs == []


def test_without_cap_sys_nice_the_worker_logs_once_and_keeps_its_share() -> None:
    _needs_root()
    seen, logs = _run_child("65534")  # nobody

    for moment in ("before", "during", "after"):
        assert seen[moment]["group"] == 0
        assert set(seen[moment]["threads"]) == {0}
        assert seen[moment]["prioritised"] is False
    assert len(logs) == 1
    assert "CAP_SYS_NICE" in logs[0]
    assert "worker.cpu_priority: 0" in logs[0]


def test_a_zero_priority_changes_nothing() -> None:
    before = os.getpriority(os.PRIO_PROCESS, os.getpid())
    priority = CpuPriority(0)
    priority.raise_share()
    assert not priority.raised
    assert os.getpriority(os.PRIO_PROCESS, os.getpid()) == before


def test_live_and_interactive_pipelines_are_latency_bound_and_batch_ones_are_not() -> None:
    bound = {spec.name for spec in all_specs() if spec.latency_bound}
    assert {"assistant-live", "face-swap-live", "assistant", "chat", "tts", "stt"} <= bound
    assert not bound & {"face-swap", "lip-sync", "talking-avatar", "noop"}
