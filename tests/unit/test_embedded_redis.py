"""The embedded Redis keeps its data across a stop, a ``kill -9`` and a snapshot restore."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import redis

from visiovox.embedded_redis import EmbeddedRedis


def client(server: EmbeddedRedis) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(server.socket_path), decode_responses=True)


def kill_hard(server: EmbeddedRedis) -> None:
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.poll() == -signal.SIGKILL


def test_a_persistent_server_writes_an_append_only_file_and_snapshots(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        config = client(server).config_get("*")
    assert config["save"] == "60 1"
    assert config["appendonly"] == "yes"
    assert config["appendfsync"] == "everysec"


def test_data_survives_a_stop_and_start(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path).start()
    try:
        client(server).set("key", "value")
        client(server).rpush("queue", "a", "b")
        server.stop()
        assert server.poll() == 0
        assert (tmp_path / "dump.rdb").is_file()
        server.start()
        assert client(server).get("key") == "value"
        assert client(server).lrange("queue", 0, -1) == ["a", "b"]
    finally:
        server.stop()


def test_data_older_than_a_second_survives_a_kill_9(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path).start()
    try:
        client(server).set("key", "value")
        client(server).lpush("queue", "task")  # a queued Celery message is a list entry
        time.sleep(1.5)  # appendfsync everysec: at most the last second is lost
        kill_hard(server)
        server.start()
        assert client(server).get("key") == "value"
        assert client(server).lrange("queue", 0, -1) == ["task"]
    finally:
        server.stop()


def test_a_snapshot_alone_is_loaded_and_then_kept_in_an_append_only_file(tmp_path: Path) -> None:
    # A dump.rdb restored from a backup, with no append-only file beside it.
    server = EmbeddedRedis(tmp_path).start()
    try:
        client(server).set("key", "value")
        server.stop()
        (tmp_path / "appendonly.aof").unlink()
        server.start()
        assert client(server).get("key") == "value"
        assert client(server).config_get("appendonly")["appendonly"] == "yes"
        client(server).set("later", "too")
        time.sleep(1.5)
        kill_hard(server)
        server.start()
        assert client(server).mget("key", "later") == ["value", "too"]
    finally:
        server.stop()


@pytest.mark.parametrize("stop", ["stop", "kill"])
def test_a_server_without_persistence_starts_empty(tmp_path: Path, stop: str) -> None:
    server = EmbeddedRedis(tmp_path, persist=False).start()
    try:
        config = client(server).config_get("*")
        assert (config["save"], config["appendonly"]) == ("", "no")
        client(server).set("key", "value")
        if stop == "kill":
            time.sleep(1.1)  # past the second a persistent server would fsync within
            kill_hard(server)
        else:
            server.stop()
        server.start()
        assert client(server).get("key") is None
        assert not list(tmp_path.glob("*.rdb")) and not list(tmp_path.glob("*.aof"))
    finally:
        server.stop()
