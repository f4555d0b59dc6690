"""Slow and huge requests against a real gateway, over raw sockets (api/http_protocol.py).

Headers that take longer than gateway.header_timeout_s, headers over
gateway.max_header_bytes and bodies that stall for gateway.body_idle_timeout_s
end their connections, so slow clients cannot pile up file descriptors.
"""

from __future__ import annotations

import json
import os
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.stack import Stack, wait_until

TIMEOUT_S = 1.0
MAX_HEADER_BYTES = 65_536


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(
        tmp_path_factory.mktemp("slow-clients"),
        settings={
            "VISIOVOX_GATEWAY__HEADER_TIMEOUT_S": str(TIMEOUT_S),
            "VISIOVOX_GATEWAY__BODY_IDLE_TIMEOUT_S": str(TIMEOUT_S),
            "VISIOVOX_GATEWAY__MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
        },
    )
    try:
        yield stack.start()
    finally:
        stack.stop()


def connect(stack: Stack) -> socket.socket:
    return socket.create_connection(("127.0.0.1", stack.port), timeout=10)


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``sock`` (EOF or reset) within ``seconds``."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65_536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_headers_sent_slowly_are_cut_off_after_the_header_timeout(gateway: Stack) -> None:
    with connect(gateway) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        with pytest.raises(OSError):  # a header a byte at a time, for longer than allowed
            for _ in range(50):
                sock.sendall(b"X")
                time.sleep(0.1)
        elapsed = time.monotonic() - started
    assert TIMEOUT_S * 0.9 <= elapsed < TIMEOUT_S + 2, elapsed


def test_a_connection_that_sends_nothing_is_closed(gateway: Stack) -> None:
    with connect(gateway) as sock:
        assert closed_within(sock, TIMEOUT_S + 2)


def test_a_header_over_the_cap_answers_431(gateway: Stack) -> None:
    with connect(gateway) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        # 1.5 MiB of one header, unless the answer comes first.
        while sent < 1536 * 1024 and not select.select([sock], [], [], 0)[0]:
            sock.sendall(b"a" * 16_384)
            sent += 16_384
        sock.settimeout(5)
        answer = b""
        while chunk := sock.recv(65_536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["error"]["code"] == "header_too_large"


def test_a_stalled_upload_is_cut_off_and_its_file_removed(gateway: Stack) -> None:
    boundary = b"b0undary"
    part = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        b"Content-Type: audio/wav\r\n\r\n"
    )
    declared = len(part) + 4 * 1024 * 1024
    jobs = gateway.root / "data" / "jobs"
    with connect(gateway) as sock:
        sock.sendall(
            b"POST /v1/jobs/stt HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n"
            b"Content-Length: %d\r\n\r\n" % declared + part + os.urandom(1536 * 1024)
        )
        wait_until(lambda: _files(jobs), timeout_s=10, what="the upload's file on disk")
        started = time.monotonic()
        assert closed_within(sock, TIMEOUT_S + 5)  # and now the client stalls
    assert time.monotonic() - started >= TIMEOUT_S * 0.9
    wait_until(lambda: not _files(jobs), timeout_s=10, what="the partial upload removed")


def _files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def test_slow_connections_do_not_pile_up(gateway: Stack) -> None:
    assert gateway.gateway is not None
    pid = gateway.gateway.pid
    before = open_fds(pid)
    slow = [connect(gateway) for _ in range(200)]
    try:
        for sock in slow:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        wait_until(lambda: open_fds(pid) >= before + 150, timeout_s=5, what="200 connections")
        wait_until(
            lambda: open_fds(pid) <= before + 5,
            timeout_s=TIMEOUT_S + 5,
            what="the slow connections closed",
        )
    finally:
        for sock in slow:
            sock.close()
