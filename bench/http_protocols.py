"""uvicorn's HTTP protocols against the gateway's own, on the same app in the same run.

Three servers, each one uvicorn process serving ``bench.bare_app`` (a form POST
answered 202 JSON, so the protocol's share of the cost shows): uvicorn's
httptools protocol (the default until now), its h11 protocol, and
``GatewayHttpProtocol`` (``visiovox.api.http_protocol``: httptools with a
header deadline, a header-size cap and a body idle timeout). For each, in
alternating rounds: keep-alive throughput, a new connection per request, then
``SLOW`` connections that send a request line and one header and nothing more
(slowloris), with the server's open file descriptors counted before, while
they are held and ``HEADER_TIMEOUT_S`` + 1 s later; and one request with a
2 MiB header.

    python -m bench.http_protocols [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.stack import free_port, wait_until

from bench.loadgen import run_load

CLIENTS = 16
SECONDS = 5.0
SLOW = 500
HEADER_TIMEOUT_S = 2.0
BODY = b"text=Hello+there."
FORM = "application/x-www-form-urlencoded"
SERVE = """
import sys, uvicorn
from visiovox.api.http_protocol import gateway_protocol
from visiovox.config import GatewaySettings
kind, port = sys.argv[1], int(sys.argv[2])
http = gateway_protocol(GatewaySettings(header_timeout_s={timeout})) if kind == "gateway" else kind
uvicorn.run("bench.bare_app:app", port=port, http=http, log_level="warning", access_log=False)
"""
PROTOCOLS = ("httptools", "h11", "gateway")


def start(kind: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE.format(timeout=HEADER_TIMEOUT_S), kind, str(port)],
        cwd=Path(__file__).parent.parent,
    )
    wait_until(lambda: _up(port), timeout_s=30, what=f"{kind} server")
    return process, port


def _up(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def one_connection_each(port: int, seconds: float) -> float:
    """Requests per second when every request opens and closes its own connection."""
    request = (
        f"POST /v1/jobs/tts HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\n"
        f"Connection: close\r\nContent-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    done = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            await reader.read()
            writer.close()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return done / (time.perf_counter() - started)


def slowloris(pid: int, port: int) -> tuple[int, int, int]:
    """Server fds before, while ``SLOW`` half-sent requests are held, and after the timeout."""
    before = open_fds(pid)
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(SLOW)]
    try:
        for sock in held:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.5)
        during = open_fds(pid)
        time.sleep(HEADER_TIMEOUT_S + 1)
        return before, during, open_fds(pid)
    finally:
        for sock in held:
            sock.close()


def huge_header(port: int) -> str:
    """What a 2 MiB header gets: the status line, or how the connection ended."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(
                b"GET /docs HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (2 << 20) + b"\r\n\r\n"
            )
            head = sock.recv(200)
        except OSError as exc:
            return f"connection {type(exc).__name__}"
    return head.split(b"\r\n", 1)[0].decode() or "closed, no answer"


def measure(kind: str) -> dict[str, float]:
    process, port = start(kind)
    try:
        load = asyncio.run(
            run_load(
                host="127.0.0.1",
                port=port,
                path="/v1/jobs/tts",
                body=BODY,
                content_type=FORM,
                clients=CLIENTS,
                seconds=SECONDS,
            )
        )
        per_connection = asyncio.run(one_connection_each(port, SECONDS / 2))
        before, during, after = slowloris(process.pid, port)
        print(
            f"  {kind:<9} keep-alive {load.per_second:6.0f} req/s p50 {load.p50_ms:5.1f} ms "
            f"p99 {load.p99_ms:5.1f} ms | new connection each {per_connection:5.0f} req/s | "
            f"fds {before} -> {during} with {SLOW} slow -> {after} after "
            f"{HEADER_TIMEOUT_S + 1:.0f} s | 2 MiB header: {huge_header(port)}",
            flush=True,
        )
        return {
            "keep-alive req/s": load.per_second,
            "p99 ms": load.p99_ms,
            "new-connection req/s": per_connection,
            "fds after": after,
        }
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at the start")
    figures: dict[str, dict[str, list[float]]] = {kind: {} for kind in PROTOCOLS}
    for round_index in range(args.rounds):
        print(f"round {round_index + 1}")
        order = PROTOCOLS if round_index % 2 == 0 else tuple(reversed(PROTOCOLS))
        for kind in order:
            for name, value in measure(kind).items():
                figures[kind].setdefault(name, []).append(value)
    print(f"medians (load average {os.getloadavg()[0]:.2f} at the end); ratio to httptools")
    base = {name: statistics.median(values) for name, values in figures["httptools"].items()}
    for kind in PROTOCOLS:
        cells = []
        for name, values in figures[kind].items():
            value = statistics.median(values)
            ratio = f" ({value / base[name]:.2f})" if name.endswith("req/s") else ""
            cells.append(f"{name} {value:.0f}{ratio}")
        print(f"  {kind:<9} " + ", ".join(cells))


if __name__ == "__main__":
    main()
