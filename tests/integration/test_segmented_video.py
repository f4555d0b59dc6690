"""A long video split into segment jobs across two real workers (``jobs/segments.py``).

Short settings: ``fleet.segment_s`` of 1 s on 5 fps test videos (5 frames a
segment), the stack's 3 s lease. The unsegmented result to compare with is the
same pipeline run in-process (``LocalContext`` never splits a job).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import redis

from tests.faces import ASTRONAUT, write_face_video
from tests.integration.stack import Stack, wait_for_job, wait_until
from visiovox.config import load_settings
from visiovox.engines.pool import EnginePool
from visiovox.media._av import av
from visiovox.media.image import read_image
from visiovox.pipelines.face_swap import spec as face_swap
from visiovox.pipelines.testing import LocalContext, run_pipeline

SEGMENTED = {"VISIOVOX_FLEET__SEGMENT_S": "1", "VISIOVOX_AUTH__ENABLED": "on"}


@pytest.fixture(scope="module")
def engine_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnginePool]:
    """The engines of the in-process, unsegmented reference run."""
    settings = load_settings(models={"cache_dir": tmp_path_factory.mktemp("models")})
    pool = EnginePool(settings=settings, device="cpu")
    yield pool
    pool.close()


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """Private deployments with ``fleet.segment_s`` 1 s, auth on and the owner alice."""
    started: list[Stack] = []

    def make(*, workers: int) -> Stack:
        deployment = Stack(tmp_path / f"stack{len(started)}", settings=SEGMENTED)
        deployment.root.mkdir()
        started.append(deployment)
        return deployment.start(workers=workers, owners=("alice",))

    try:
        yield make
    finally:
        for deployment in started:
            deployment.stop()


def start(make_stack: Callable[..., Stack], *, workers: int = 2) -> tuple[Stack, httpx.Client]:
    stack = make_stack(workers=workers)
    return stack, stack.client("alice")


def post_video(client: httpx.Client, clip: Path, *, pipeline: str = "face-swap") -> str:
    files: dict[str, Any] = {"target": ("clip.mp4", io.BytesIO(clip.read_bytes()), "video/mp4")}
    if pipeline == "face-swap":
        files["source"] = ("source.png", io.BytesIO(ASTRONAUT.read_bytes()), "image/png")
    response = client.post(f"/v1/jobs/{pipeline}", files=files)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def record(stack: Stack, job_id: str) -> dict[str, Any]:
    raw = redis.Redis.from_url(stack.redis.url).hgetall(f"vv:job:{job_id}")
    return {key.decode(): json.loads(value) for key, value in raw.items()}


def children_of(stack: Stack, job_id: str, *, timeout_s: float = 60) -> list[str]:
    """The parent's segment jobs, once it has split."""
    ids = wait_until(
        lambda: record(stack, job_id).get("segments"), timeout_s=timeout_s, what="the split"
    )
    return list(ids)


def decoded(data: bytes) -> tuple[list[np.ndarray], float]:
    with av.open(io.BytesIO(data)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
        duration = (container.duration or 0) / av.time_base
    return frames, duration


def test_a_long_swap_is_split_across_both_workers_into_one_output(
    make_stack: Callable[..., Stack], tmp_path: Path, engine_pool: EnginePool
) -> None:
    clip = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=30, side=128)
    stack, alice = start(make_stack)
    with alice:
        job_id = post_video(alice, clip)
        children = children_of(stack, job_id)
        job = wait_for_job(alice, job_id, timeout_s=240)
        assert job["status"] == "succeeded", (job, stack.logs())
        assert job["result"]["segments"] == len(children) == 6
        assert job["result"]["frames"] == 30 and job["result"]["audio"] == "copied"
        (output,) = job["outputs"]
        assert output["name"] == "swapped.mp4"
        frames, duration = decoded(alice.get(output["url"]).content)

        # Owners see the parent only: not in the list, a child's id is unknown to them.
        listed = [item["id"] for item in alice.get("/v1/jobs").json()["data"]]
        assert listed == [job_id]
        for child in children:
            assert alice.get(f"/v1/jobs/{child}").status_code == 404
            assert alice.get(f"/v1/jobs/{child}/events").status_code == 404
    workers = {record(stack, child)["worker"] for child in children}
    assert workers == {"w1", "w2"}
    client = redis.Redis.from_url(stack.redis.url)
    assert not any(client.zcard(f"vv:quota:alice:{name}") for name in ("queued", "running"))
    events = [json.loads(e[1][b"data"]) for e in client.xrange(f"vv:events:{job_id}")]
    percents = [e["percent"] for e in events if "percent" in e]
    assert percents == sorted(percents) and len(percents) > 1

    whole = LocalContext.with_files(
        root=tmp_path / "whole", pool=engine_pool, files={"source": ASTRONAUT, "target": clip}
    )
    run_pipeline(face_swap.SPEC, {}, whole)
    reference, reference_duration = decoded(whole.output_path("swapped.mp4").read_bytes())
    assert len(frames) == len(reference) == 30
    assert abs(duration - reference_duration) <= 1 / 5
    # No repeated or missing frame at a boundary: each frame is nearest its own reference.
    for index, frame in enumerate(frames):
        distances = [
            float(np.abs(frame.astype(np.int16) - reference[other].astype(np.int16)).mean())
            for other in range(max(0, index - 1), min(len(reference), index + 2))
        ]
        own = distances[min(index, 1)]
        assert own == min(distances), (index, distances)


def test_one_worker_runs_the_segments_of_its_own_split(
    make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    """The parent holds no worker while it waits, so one worker plans, runs every
    segment and stitches, without a deadlock."""
    clip = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=20, side=96)
    stack, alice = start(make_stack, workers=1)
    with alice:
        job_id = post_video(alice, clip)
        job = wait_for_job(alice, job_id, timeout_s=120)
    assert job["status"] == "succeeded", (job, stack.logs())
    assert (job["result"]["segments"], job["result"]["frames"]) == (4, 20)
    stages = [
        json.loads(fields[b"data"]).get("stage")
        for _id, fields in redis.Redis.from_url(stack.redis.url).xrange(f"vv:events:{job_id}")
    ]
    assert stages.index("segments") < stages.index("stitch")


def test_cancelling_the_parent_cancels_its_segments(
    make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    clip = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=60, side=128)
    stack, alice = start(make_stack, workers=1)
    with alice:
        job_id = post_video(alice, clip)
        children = children_of(stack, job_id)
        response = alice.delete(f"/v1/jobs/{job_id}")
        assert response.status_code in (200, 202), response.text
        job = wait_for_job(alice, job_id, timeout_s=30)
    assert job["status"] == "canceled"

    def settled() -> list[str] | None:
        statuses = [record(stack, child)["status"] for child in children]
        return statuses if all(s in ("canceled", "succeeded") for s in statuses) else None

    statuses = wait_until(settled, timeout_s=60, what="every segment ended")
    assert statuses.count("canceled") >= len(children) - 2, statuses


def test_a_failing_segment_fails_the_parent_with_its_code(
    make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    """face-enhance's GFPGAN is not in the stack's model cache: each segment fails
    model_unavailable, and so does the parent, its other segments canceled."""
    clip = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=30, side=64)
    stack, alice = start(make_stack)
    with alice:
        job_id = post_video(alice, clip, pipeline="face-enhance")
        children = children_of(stack, job_id)
        job = wait_for_job(alice, job_id, timeout_s=120)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "model_unavailable", job
    assert job["outputs"] == []
    wait_until(
        lambda: all(record(stack, c)["status"] in ("failed", "canceled") for c in children),
        timeout_s=60,
        what="every segment ended",
    )


def test_a_segment_whose_worker_dies_is_run_again_alone(
    make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    clip = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=40, side=128)
    stack, alice = start(make_stack)
    with alice:
        job_id = post_video(alice, clip)
        children = children_of(stack, job_id)

        def running_on_w2() -> str | None:
            for child in children:
                fields = record(stack, child)
                if fields["status"] == "running" and fields["worker"] == "w2":
                    return child
            return None

        lost = wait_until(running_on_w2, timeout_s=120, what="a segment running on w2")
        stack.kill_worker("w2")
        started = time.monotonic()
        job = wait_for_job(alice, job_id, timeout_s=240)
    assert job["status"] == "succeeded", (job, stack.logs())
    assert job["result"]["frames"] == 40
    attempts = {child: record(stack, child)["attempts"] for child in children}
    assert attempts[lost] == 2, attempts
    assert all(count == 1 for child, count in attempts.items() if child != lost), attempts
    assert record(stack, lost)["worker"] == "w1"
    assert time.monotonic() - started < 240


def test_a_long_lip_sync_is_split_into_ranges_of_output_frames(
    make_stack: Callable[..., Stack], tmp_path: Path, engine_pool: EnginePool
) -> None:
    """The output follows the audio (the 5 fps face video ping-ponged under it): segments
    are ranges of output frames, the faces found once by the parent."""
    from visiovox.pipelines.lip_sync import spec as lip_sync

    face = write_face_video(tmp_path / "face.mp4", read_image(ASTRONAUT), frames=8, side=128)
    stack, alice = start(make_stack)
    with alice:
        response = alice.post(
            "/v1/jobs/tts",
            data={"text": "Hello there, how are you today? Fine, thank you.", "format": "wav"},
        )
        speech = alice.get(
            wait_for_job(alice, response.json()["id"], timeout_s=120)["outputs"][0]["url"]
        ).content
        (tmp_path / "speech.wav").write_bytes(speech)
        files = {
            "face": ("face.mp4", io.BytesIO(face.read_bytes()), "video/mp4"),
            "audio": ("speech.wav", io.BytesIO(speech), "audio/wav"),
        }
        response = alice.post("/v1/jobs/lip-sync", files=files, data={"retime": "pingpong"})
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        children = children_of(stack, job_id)
        job = wait_for_job(alice, job_id, timeout_s=240)
        assert job["status"] == "succeeded", (job["error"], stack.logs())
        frames, duration = decoded(alice.get(job["outputs"][0]["url"]).content)
    assert job["result"]["segments"] == len(children) >= 2
    whole = LocalContext.with_files(
        root=tmp_path / "whole",
        pool=engine_pool,
        files={"face": face, "audio": tmp_path / "speech.wav"},
    )
    run_pipeline(lip_sync.SPEC, {"retime": "pingpong"}, whole)
    reference, reference_duration = decoded(whole.output_path("video.mp4").read_bytes())
    assert len(frames) == len(reference) == job["result"]["frames"]
    assert abs(duration - reference_duration) <= 1 / 5
    for index, frame in enumerate(frames):
        diff = np.abs(frame.astype(np.int16) - reference[index].astype(np.int16)).mean()
        assert diff < 6, (index, diff)
