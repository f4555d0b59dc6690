"""A worker prunes its local copies of deleted voices (S3 storage), on real Redis."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from visiovox.config import load_settings
from visiovox.embedded_redis import EmbeddedRedis
from visiovox.jobs.keys import RedisKeys
from visiovox.worker.voice_copies import VoiceCopies, voice_copies

KEYS = RedisKeys("vvcopies")
NOW = 1_000_000.0


@pytest.fixture
def client(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_server.url)
    yield connection
    for key in connection.scan_iter(f"{KEYS.prefix}:*"):
        connection.delete(key)
    connection.close()


def _copy(root: Path, voice_id: str, *, age_s: float) -> Path:
    folder = root / voice_id
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"graph")
    os.utime(folder, (NOW - age_s, NOW - age_s))
    return folder


def _pruner(root: Path, client: redis.Redis, clock: list[float]) -> VoiceCopies:
    return VoiceCopies(
        root=root, client=client, keys=KEYS, interval_s=60, settle_s=600, clock=lambda: clock[0]
    )


def test_the_copy_of_a_deleted_voice_goes_and_a_registered_ones_stays(
    tmp_path: Path, client: redis.Redis
) -> None:
    deleted = _copy(tmp_path, "vo_deleted", age_s=3600)
    kept = _copy(tmp_path, "vo_kept", age_s=3600)
    uploading = _copy(tmp_path, "vo_uploading", age_s=5)  # files before the record
    client.hset(KEYS.voice("vo_kept"), mapping={"owner": "alice"})
    (tmp_path / "stray.txt").write_text("not a voice folder")
    removed = _pruner(tmp_path, client, [NOW]).prune()
    assert removed == ["vo_deleted"]
    assert not deleted.exists()
    assert (kept / "model.onnx").read_bytes() == b"graph"
    assert uploading.is_dir() and (tmp_path / "stray.txt").exists()


def test_prunes_at_most_once_an_interval(tmp_path: Path, client: redis.Redis) -> None:
    clock = [NOW]
    pruner = _pruner(tmp_path, client, clock)
    assert pruner.prune_if_due() == []  # nothing there yet
    _copy(tmp_path, "vo_gone", age_s=3600)
    clock[0] = NOW + 30
    assert pruner.prune_if_due() == []  # within the interval: not looked at
    assert (tmp_path / "vo_gone").is_dir()
    clock[0] = NOW + 61
    assert pruner.prune_if_due() == ["vo_gone"]


def test_no_root_no_work(tmp_path: Path, client: redis.Redis) -> None:
    assert _pruner(tmp_path / "missing", client, [NOW]).prune() == []


def test_only_a_bucket_leaves_copies_to_prune(tmp_path: Path, client: redis.Redis) -> None:
    local = load_settings(storage={"root": tmp_path})
    assert voice_copies(local, client) is None  # the folder is the voice's only copy
    bucket = load_settings(
        storage={
            "root": tmp_path,
            "backend": "s3",
            "s3": {"bucket": "voices", "endpoint_url": "http://127.0.0.1:9"},
        }
    )
    pruner = voice_copies(bucket, client)
    assert pruner is not None
    _copy(tmp_path / "voices", "vo_gone", age_s=NOW - 1)  # changed long before today
    assert pruner.prune() == ["vo_gone"]
