"""The bad-input corpus swept through every endpoint and pipeline that takes it.

For each broken, malicious or unspeakable input, at each field that takes its
kind (with valid partners in the other fields): no 5xx, a JSON error with a
code and a message for every 4xx, no job ending ``internal_error`` or
``worker_lost``, no job left queued or running, the worker alive, and no job
folder on disk without its record.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.corpus_sweep import WORKER_FAILURES, speech_wav, sweep, wait_all_finished
from tests.integration.stack import Stack, orphan_job_dirs

OWNER = "mallory"


@pytest.fixture(scope="module")
def mallory(stack: Stack) -> Iterator[httpx.Client]:
    stack.create_key(OWNER)
    with stack.client(OWNER) as client:
        client.timeout = 120
        yield client


def test_no_bad_input_breaks_anything(stack: Stack, mallory: httpx.Client, tmp_path: Path) -> None:
    accepted = sweep(mallory, folder=tmp_path, speech=speech_wav(mallory))
    wait_all_finished(mallory)
    for job_id, case in accepted.items():
        error = mallory.get(f"/v1/jobs/{job_id}").json().get("error") or {}
        assert error.get("code") not in WORKER_FAILURES, f"{case}: {error}"
    assert accepted, "no case reached a worker: the sweep no longer tests the worker side"
    assert all(process.poll() is None for process in stack.workers.values()), stack.logs()
    assert not orphan_job_dirs(stack)
