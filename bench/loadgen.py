"""A lean keep-alive HTTP/1.1 load generator on asyncio streams.

Python HTTP clients cost more CPU per request than the server under test; on
a 2-core box that would measure the client. This one writes raw requests and
reads just enough of each response.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class LoadResult:
    """Throughput and latency of one load run."""

    requests: int
    seconds: float
    statuses: dict[int, int]
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _client(
    host: str,
    port: int,
    request: bytes,
    deadline: float,
    latencies: list[float],
    statuses: dict[int, int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def run_load(
    *, host: str, port: int, path: str, body: bytes, content_type: str, clients: int, seconds: float
) -> LoadResult:
    """``clients`` connections POSTing ``body`` to ``path`` back to back for ``seconds``."""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_client(host, port, request, deadline, latencies, statuses) for _ in range(clients))
    )
    elapsed = time.perf_counter() - started
    return LoadResult(
        requests=len(latencies),
        seconds=elapsed,
        statuses=statuses,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
    )
