"""The cost of refusing repeated query parameters (``api/query_params.py``) per request.

In-process ASGI calls, no network: a bare app answering 200 with an empty body,
called directly and through ``RepeatedQueryParams``, in alternating rounds, for
query strings with no ``&`` (most requests: one byte search), with two
parameters (``GET /v1/jobs?limit=…&cursor=…``: parsed) and with 5,000 copies of one
(refused at the first repeat). Prints microseconds per request and the
middleware's added cost; the load average is printed, as other processes share
the machine.

    python -m bench.query_params [--rounds 5] [--calls 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from visiovox.api.query_params import RepeatedQueryParams

QUERIES = {
    "none": b"",
    "one": b"limit=20",
    "two": b"limit=20&cursor=1795699859.0036244",
    "5000 repeats": b"&".join([b"limit=1"] * 5_000),
}


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Message) -> None:
    return None


async def per_call_us(app: ASGIApp, query: bytes, calls: int) -> float:
    scope: Scope = {"type": "http", "method": "GET", "path": "/", "query_string": query}
    start = time.perf_counter()
    for _ in range(calls):
        await app(scope, _receive, _send)
    return (time.perf_counter() - start) / calls * 1e6


async def main(rounds: int, calls: int) -> None:
    apps: dict[str, ASGIApp] = {"bare": bare_app, "middleware": RepeatedQueryParams(bare_app)}
    print(f"load average before: {os.getloadavg()}")
    for label, query in QUERIES.items():
        # The 5,000-copy string is slow to parse: fewer calls keep the run short.
        n = calls if len(query) < 1_000 else max(calls // 100, 50)
        times: dict[str, list[float]] = {name: [] for name in apps}
        for _ in range(rounds):
            for name, app in apps.items():
                times[name].append(await per_call_us(app, query, n))
        bare = statistics.median(times["bare"])
        wrapped = statistics.median(times["middleware"])
        print(
            f"{label:>13}: bare {bare:6.2f} µs, with the middleware {wrapped:7.2f} µs "
            f"(+{wrapped - bare:.2f} µs, ×{wrapped / bare:.2f}), {n} calls × {rounds} rounds"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20_000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rounds, arguments.calls))
