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
    # Each status's latencies (seconds), e.g. to time the 429s apart.
    by_status: dict[int, list[float]]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def status_ms(self, status: int, fraction: float) -> float:
        """A percentile of the latencies of the responses with ``status``, in ms."""
        return percentile(self.by_status[status], fraction) * 1000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _client(
    host: str,
    port: int,
    request: bytes,
    deadline: float,
    latencies: dict[int, list[float]],
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
            latencies.setdefault(status, []).append(time.perf_counter() - started)
    finally:
        writer.close()


async def run_load(
    *,
    host: str,
    port: int,
    path: str,
    body: bytes,
    content_type: str,
    clients: int,
    seconds: float,
    headers: str = "",
) -> LoadResult:
    """``clients`` connections POSTing ``body`` to ``path`` back to back for ``seconds``.

    ``headers``: extra header lines, each ending in CRLF (e.g. an ``Authorization``).
    """
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n"
        f"{headers}Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: dict[int, list[float]] = {}
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_client(host, port, request, deadline, latencies) for _ in range(clients))
    )
    elapsed = time.perf_counter() - started
    every = [value for values in latencies.values() for value in values]
    return LoadResult(
        requests=len(every),
        seconds=elapsed,
        statuses={status: len(values) for status, values in latencies.items()},
        p50_ms=statistics.median(every) * 1000,
        p99_ms=percentile(every, 0.99) * 1000,
        by_status=latencies,
    )
