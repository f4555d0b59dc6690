"""The S3 storage backend on real processes: gateway and worker share only Redis and a bucket.

The bucket lives on moto's S3 server (``tests/integration/s3.py`` names what it
does not check). The gateway and the worker each have their own storage root
(``Stack(worker_settings=...)``): every file one hands the other goes through
the bucket. A second gateway on the same Redis answers downloads with
presigned redirects.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis

from tests.faces import ASTRONAUT, HOPPER, write_face_video
from tests.integration.s3 import CREDENTIALS, S3Server
from tests.integration.stack import Stack, wait_for_job
from tests.unit.engines.voice.rvc_graphs import synthesizer_graph
from visiovox.config_storage import StorageSettings
from visiovox.jobs.storage import JobFiles
from visiovox.media._av import av
from visiovox.media.image import read_image
from visiovox.storage.choose import open_backend

BUCKET = "visiovox-test"
MIB = 1024 * 1024
# Over one multipart part (8 MiB): a capped upload is cut after a part went up.
MAX_UPLOAD = 12 * MIB


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("s3") / "moto.log").start()
    try:
        server.create_bucket(BUCKET)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def stack(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("s3-stack")
    deployment = Stack(
        root,
        settings={**s3.settings(BUCKET), "VISIOVOX_UPLOADS__MAX_BYTES": str(MAX_UPLOAD)},
        worker_settings={"VISIOVOX_STORAGE__ROOT": str(root / "worker-data")},
    )
    try:
        yield deployment.start()
    finally:
        deployment.stop()


@pytest.fixture(scope="module")
def presigning(
    s3: S3Server, stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A second gateway on the same Redis and bucket that redirects downloads."""
    deployment = Stack(
        tmp_path_factory.mktemp("s3-presign"),
        settings=s3.settings(BUCKET, presign=True),
        redis=stack.redis,
    )
    try:
        yield deployment.start(workers=0)
    finally:
        deployment.stop()


def _noise_bmp(width: int, height: int) -> bytes:
    """An uncompressed BMP of random pixels: a big upload every check accepts."""
    row = (width * 3 + 3) // 4 * 4
    pixels = np.random.default_rng(7).integers(0, 256, size=row * height, dtype=np.uint8)
    header = (
        b"BM" + (54 + row * height).to_bytes(4, "little") + bytes(4) + (54).to_bytes(4, "little")
    )
    info = (
        (40).to_bytes(4, "little")
        + width.to_bytes(4, "little")
        + height.to_bytes(4, "little")
        + (1).to_bytes(2, "little")
        + (24).to_bytes(2, "little")
        + bytes(24)
    )
    return header + info + pixels.tobytes()


def _local_job_files(root: Path) -> list[Path]:
    """Files a process left under its storage root's job and scratch folders."""
    return [p for folder in ("jobs", "scratch") for p in (root / folder).rglob("*") if p.is_file()]


def test_an_upload_streams_into_the_bucket_and_no_local_copy_stays(
    stack: Stack, s3: S3Server
) -> None:
    target = _noise_bmp(2000, 1700)  # ~10 MB: two parts of a multipart upload
    assert 8 * MIB < len(target) < MAX_UPLOAD
    with stack.client() as client:
        answer = client.post(
            "/v1/jobs/face-swap",
            files={"source": ("s.jpg", HOPPER.read_bytes()), "target": ("t.bmp", target)},
        )
        assert answer.status_code == 202, answer.text
        job = answer.json()
        stored = s3.client().get_object(Bucket=BUCKET, Key=f"jobs/{job['id']}/in/target.bmp")
        assert (
            hashlib.sha256(stored["Body"].read()).hexdigest() == hashlib.sha256(target).hexdigest()
        )
        assert s3.open_uploads(BUCKET) == []
        wait_for_job(client, job["id"], timeout_s=120)
    assert _local_job_files(stack.root / "data") == []


def test_an_upload_over_the_cap_is_413_and_leaves_no_object_or_upload(
    stack: Stack, s3: S3Server
) -> None:
    before = set(s3.keys(BUCKET))
    boundary = "visiovox-cap"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="target"; filename="t.bmp"\r\n'
        "Content-Type: image/bmp\r\n\r\n"
    ).encode()
    body = _noise_bmp(2800, 2400)  # ~20 MB, sent with no Content-Length: the cap bites mid-stream

    def chunks() -> Iterator[bytes]:
        yield head
        for start in range(0, len(body), MIB):
            yield body[start : start + MIB]
        yield f"\r\n--{boundary}--\r\n".encode()

    with stack.client() as client:
        answer = client.post(
            "/v1/jobs/face-swap",
            content=chunks(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"]["code"] == "upload_too_large"
    assert set(s3.keys(BUCKET)) == before
    assert s3.open_uploads(BUCKET) == []
    assert _local_job_files(stack.root / "data") == []


def test_a_face_swap_still_runs_through_the_bucket(stack: Stack, s3: S3Server) -> None:
    with stack.client() as client:
        answer = client.post(
            "/v1/jobs/face-swap",
            files={
                "source": ("s.jpg", HOPPER.read_bytes()),
                "target": ("t.png", ASTRONAUT.read_bytes()),
            },
        )
        assert answer.status_code == 202, answer.text
        done = wait_for_job(client, answer.json()["id"], timeout_s=180)
        assert done["status"] == "succeeded", done
        [output] = done["outputs"]
        whole = client.get(output["url"])
        assert whole.status_code == 200
        assert whole.headers["content-type"] == output["content_type"]
        key = f"jobs/{done['id']}/out/{output['name']}"
        assert whole.content == s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()
        part = client.get(output["url"], headers={"Range": "bytes=100-1099"})
        assert part.status_code == 206
        assert part.content == whole.content[100:1100]
        assert part.headers["content-range"] == f"bytes 100-1099/{len(whole.content)}"
        beyond = client.get(output["url"], headers={"Range": f"bytes={len(whole.content)}-"})
        assert beyond.status_code == 416
    # The worker staged the inputs in scratch and removed it; the gateway kept no copy.
    assert _local_job_files(stack.root / "worker-data") == []
    assert _local_job_files(stack.root / "data") == []


def test_a_long_video_splits_across_workers_that_share_only_the_bucket(
    s3: S3Server, tmp_path: Path
) -> None:
    # Two workers with a storage root each, as on two hosts: every segment's output
    # reaches the stitch through the bucket (fleet.segment_s 1 s: 6 segments of 5 frames).
    deployment = Stack(
        tmp_path / "fleet",
        settings={**s3.settings(BUCKET), "VISIOVOX_FLEET__SEGMENT_S": "1"},
    )
    deployment.root.mkdir()
    clip = write_face_video(tmp_path / "clip.mp4", read_image(ASTRONAUT), frames=30, side=128)
    try:
        deployment.start(workers=0)
        for name in ("w1", "w2"):
            root = deployment.root / f"{name}-data"
            deployment.worker_settings = {"VISIOVOX_STORAGE__ROOT": str(root)}
            deployment.start_worker(name)
        with deployment.client() as client:
            answer = client.post(
                "/v1/jobs/face-swap",
                files={
                    "source": ("s.png", ASTRONAUT.read_bytes()),
                    "target": ("t.mp4", clip.read_bytes()),
                },
            )
            assert answer.status_code == 202, answer.text
            done = wait_for_job(client, answer.json()["id"], timeout_s=240)
            assert done["status"] == "succeeded", (done, deployment.logs())
            assert (done["result"]["segments"], done["result"]["frames"]) == (6, 30)
            [output] = done["outputs"]
            video = client.get(output["url"])
            assert video.status_code == 200
        with av.open(io.BytesIO(video.content)) as container:
            assert sum(1 for _ in container.decode(video=0)) == 30
        client_redis = redis.Redis.from_url(deployment.redis.url)
        workers = {
            json.loads(client_redis.hget(f"vv:job:{child}", "worker") or "null")
            for child in json.loads(client_redis.hget(f"vv:job:{done['id']}", "segments") or "[]")
        }
        assert workers == {"w1", "w2"}
        # Each worker staged what it needed in scratch and removed it.
        for name in ("w1", "w2"):
            assert _local_job_files(deployment.root / f"{name}-data") == []
    finally:
        deployment.stop()


def test_a_download_redirects_to_a_presigned_url(
    stack: Stack, presigning: Stack, s3: S3Server
) -> None:
    with stack.client() as client:
        job_id = client.post("/v1/jobs/tts", data={"text": "Signed and sent."}).json()["id"]
        done = wait_for_job(client, job_id, timeout_s=120)
        [output] = done["outputs"]
        streamed = client.get(output["url"]).content
    with presigning.client() as client:
        redirect = client.get(output["url"])
        assert redirect.status_code == 307
        location = redirect.headers["location"]
        assert location.startswith(s3.endpoint_url) and "X-Amz-Signature" in location
        followed = client.get(output["url"], follow_redirects=True)
        assert followed.status_code == 200 and followed.content == streamed
        assert followed.headers["content-type"] == output["content_type"]
        ranged = client.get(output["url"], headers={"Range": "bytes=0-43"}, follow_redirects=True)
        assert ranged.status_code == 206 and ranged.content == streamed[:44]


def test_a_registered_voice_is_stored_in_the_bucket(
    stack: Stack, s3: S3Server, tmp_path: Path
) -> None:
    model = synthesizer_graph(tmp_path / "voice.onnx", sample_rate=40_000).read_bytes()
    with stack.client() as client:
        answer = client.post(
            "/v1/voices",
            data={"name": "alto", "sample_rate": "40000"},
            files={"model": ("voice.onnx", model, "application/octet-stream")},
        )
        assert answer.status_code == 202, answer.text
        voice_id, job_id = answer.json()["voice"]["id"], answer.json()["job"]["id"]
        assert sorted(s3.keys(BUCKET, f"voices/{voice_id}/")) == [
            f"voices/{voice_id}/model.onnx",
            f"voices/{voice_id}/voice.json",
        ]
        assert not (stack.root / "data" / "voices" / voice_id).exists()
        # The worker validated it from its own copy, fetched from the bucket.
        assert wait_for_job(client, job_id, timeout_s=120)["status"] == "succeeded"
        assert (
            stack.root / "worker-data" / "voices" / voice_id / "model.onnx"
        ).read_bytes() == model
        assert client.get(f"/v1/voices/{voice_id}").json()["status"] == "ready"
        assert client.delete(f"/v1/voices/{voice_id}").status_code == 204
    assert s3.keys(BUCKET, f"voices/{voice_id}/") == []


def test_retention_deletes_old_jobs_objects_and_stale_uploads(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    settings = StorageSettings.model_validate(
        {
            "backend": "s3",
            "root": tmp_path,
            "s3": {"bucket": BUCKET, "prefix": "retention/", "endpoint_url": s3.endpoint_url},
        }
    )
    files = JobFiles(tmp_path, backend=open_backend(settings))
    sample = tmp_path / "sample.bin"
    sample.write_bytes(b"x" * 1000)
    # One part sent, never completed: the multipart upload of a gateway that crashed.
    files.backend.open_writer("jobs/crashed/in/file").write(bytes(9 * MIB))
    assert s3.open_uploads(BUCKET) == ["retention/jobs/crashed/in/file"]
    files.put_input("old", "file.bin", sample)
    files.put_output("old", "out.bin", sample)
    assert files.delete_older_than(1.0) == 0  # nothing old yet; the open upload is noted
    time.sleep(1.5)
    files.put_output("new", "out.bin", sample)
    assert files.delete_older_than(1.0) == 1
    assert s3.keys(BUCKET, "retention/") == ["retention/jobs/new/out/out.bin"]
    assert s3.open_uploads(BUCKET) == []
    assert files.output_size("old", "out.bin") is None
    assert files.read_output("new", "out.bin") == sample.read_bytes()


def test_a_bucket_that_does_not_answer_is_503_storage_unavailable(
    s3: S3Server, tmp_path: Path
) -> None:
    """A missing bucket stands for any refusal or outage of the store: the upload is 503."""
    deployment = Stack(tmp_path, settings=s3.settings("no-such-bucket"))
    try:
        deployment.start(workers=0)
        with deployment.client() as client:
            answer = client.post(
                "/v1/jobs/face-swap",
                files={
                    "source": ("s.jpg", HOPPER.read_bytes()),
                    "target": ("t.png", ASTRONAUT.read_bytes()),
                },
            )
    finally:
        deployment.stop()
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "storage_unavailable"
    assert answer.headers["retry-after"] == "5"
    assert _local_job_files(tmp_path / "data") == []
