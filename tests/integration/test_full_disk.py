"""A full disk: uploads answer 507, jobs fail with storage_full, nothing partial stays.

The storage root is a real 4 MiB tmpfs, so every ENOSPC comes from the kernel
(mounting one needs root: elsewhere these tests skip, and fail under CI=true).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.stack import Stack, wait_for_job
from tests.tools import missing_tool

DISK_BYTES = 4 * 1024 * 1024
MIN_FREE_BYTES = 3 * 1024 * 1024
MIB = 1024 * 1024


def mount_small_disk(path: Path) -> None:
    path.mkdir(parents=True)
    if os.geteuid() != 0:
        missing_tool("a 4 MiB tmpfs as the storage root needs root (mount -t tmpfs)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        missing_tool(f"mount -t tmpfs failed: {mounted.stderr.strip()}")


@pytest.fixture(scope="module")
def full_disk_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("full-disk")
    mount_small_disk(root / "data")
    stack = Stack(
        root,
        settings={
            "VISIOVOX_STORAGE__MIN_FREE_BYTES": str(MIN_FREE_BYTES),
            "VISIOVOX_UPLOADS__MAX_BYTES": str(20 * MIB),
        },
    )
    try:
        yield stack.start()
    finally:
        stack.stop()
        subprocess.run(["umount", "--lazy", str(root / "data")], check=False)


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def assert_no_path(message: str, stack: Stack) -> None:
    assert str(stack.root) not in message and "/" not in message, message


def upload(stack: Stack, size: int) -> httpx.Response:
    body = os.urandom(size)
    files = {"file": ("speech.wav", body, "audio/wav")}
    return httpx.post(f"{stack.base_url}/v1/jobs/stt", files=files, timeout=30)


def test_an_upload_that_fills_the_disk_answers_507_and_leaves_nothing(
    full_disk_stack: Stack,
) -> None:
    response = upload(full_disk_stack, 6 * MIB)
    assert response.status_code == 507, response.text
    error = response.json()["error"]
    assert error["code"] == "insufficient_storage"
    assert_no_path(error["message"], full_disk_stack)
    assert files_under(full_disk_stack.root / "data") == []


def test_uploads_are_refused_below_min_free_bytes(full_disk_stack: Stack) -> None:
    ballast = full_disk_stack.root / "data" / "ballast"
    ballast.write_bytes(bytes(2 * MIB))  # 2 MiB free, under the 3 MiB minimum
    try:
        refused = upload(full_disk_stack, 1024)
        assert refused.status_code == 507, refused.text
        assert refused.json()["error"]["code"] == "insufficient_storage"
    finally:
        ballast.unlink()
    # With room again the upload is taken and judged (random bytes: not media).
    taken = upload(full_disk_stack, 1024)
    assert taken.status_code == 415, taken.text
    assert files_under(full_disk_stack.root / "data") == []


def test_an_output_that_fills_the_disk_fails_the_job_not_the_worker(
    full_disk_stack: Stack,
) -> None:
    with full_disk_stack.client() as client:
        job = client.post("/v1/jobs/noop", data={"write_bytes": str(8 * MIB)}).json()
        failed = wait_for_job(client, job["id"])
        assert failed["status"] == "failed", failed
        assert failed["error"]["code"] == "storage_full"
        assert_no_path(failed["error"]["message"], full_disk_stack)
        assert failed["outputs"] == []
        assert files_under(full_disk_stack.root / "data") == []

        # The same worker takes the next job and writes its output.
        job = client.post("/v1/jobs/noop", data={"write_bytes": "1000"}).json()
        done = wait_for_job(client, job["id"])
        assert done["status"] == "succeeded", done
        assert [output["size"] for output in done["outputs"]] == [1000]
        assert client.get(f"/v1/jobs/{job['id']}/files/out.bin").content == bytes(1000)
