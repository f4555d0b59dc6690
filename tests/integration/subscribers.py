"""A storm of event subscribers, for the integration test and ``bench.subscribers``.

One owner follows a few ``noop`` jobs with many SSE and WebSocket clients at
once, all in one asyncio loop, while another owner keeps listing, reading and
submitting jobs. The followed jobs wait behind a long blocker job until every
subscriber has its first event, then run: every event after ``queued`` reaches
all the subscribers of its job live, at the same instant.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil
import redis
from websockets.asyncio.client import connect

from tests.integration.stack import TERMINAL, Stack

Events = list[dict[str, Any]]


@dataclass(frozen=True)
class StormPlan:
    """How many subscribers of each kind, spread evenly over how many jobs."""

    sse: int = 200
    ws: int = 200
    jobs: int = 2
    job_sleep_s: float = 1.5
    job_steps: int = 6
    timeout_s: float = 90.0


@dataclass
class StormResult:
    """What each subscriber received, the stored events, and the other owner's answers."""

    received: dict[str, list[tuple[str, Events]]] = field(default_factory=dict)
    stored: dict[str, Events] = field(default_factory=dict)
    other_statuses: list[int] = field(default_factory=list)
    other_latencies_s: list[float] = field(default_factory=list)
    other_failures: list[str] = field(default_factory=list)
    connect_s: float = 0.0
    storm_s: float = 0.0


async def sse_events(client: httpx.AsyncClient, job_id: str) -> AsyncIterator[dict[str, Any]]:
    """The stream's events until the server ends it; an ``error`` frame is yielded too."""
    async with client.stream("GET", f"/v1/jobs/{job_id}/events") as response:
        if response.status_code != 200:
            yield {
                "type": f"http_{response.status_code}",
                "body": (await response.aread()).decode(),
            }
            return
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line == "":
                if "data" in fields:
                    event = json.loads(fields["data"])
                    yield event if fields.get("event") != "error" else {"type": "error", **event}
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")


async def follow_sse(client: httpx.AsyncClient, job_id: str, first: asyncio.Event) -> Events:
    events: Events = []
    try:
        async for event in sse_events(client, job_id):
            events.append(event)
            first.set()
    except httpx.HTTPError as exc:
        events.append({"type": f"failed: {exc!r}"})
    first.set()
    return events


async def follow_ws(url: str, key: str, first: asyncio.Event) -> Events:
    events: Events = []
    try:
        async with connect(url, additional_headers={"Authorization": f"Bearer {key}"}) as socket:
            async for message in socket:
                events.append(json.loads(message))
                first.set()
            events.append({"type": f"closed {socket.close_code} {socket.close_reason}"})
    except Exception as exc:  # a subscriber's failure is a result, checked by the caller
        events.append({"type": f"failed: {exc!r}"})
    first.set()
    return events


async def other_owner(
    client: httpx.AsyncClient, job_id: str, result: StormResult, stop: asyncio.Event
) -> None:
    """List, read and submit jobs as another owner until ``stop``."""
    requests = [
        ("GET", "/v1/jobs", None),
        ("GET", f"/v1/jobs/{job_id}", None),
        ("POST", "/v1/jobs/noop", {"sleep_s": "0"}),
    ]
    while not stop.is_set():
        for method, url, data in requests:
            sent = time.monotonic()
            try:
                response = await client.request(method, url, data=data)
            except httpx.HTTPError as exc:
                result.other_failures.append(repr(exc))
                continue
            result.other_latencies_s.append(time.monotonic() - sent)
            result.other_statuses.append(response.status_code)
            if response.status_code >= 400:
                result.other_failures.append(response.text)
        await asyncio.sleep(0.05)


def _client(stack: Stack, owner: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=stack.base_url,
        headers={"Authorization": f"Bearer {stack.api_keys[owner]}"},
        timeout=60,
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=None),
    )


async def _submit(client: httpx.AsyncClient, *, sleep_s: float, steps: int) -> str:
    response = await client.post(
        "/v1/jobs/noop", data={"sleep_s": str(sleep_s), "steps": str(steps)}
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def _until_terminal(client: httpx.AsyncClient, job_id: str) -> None:
    while (await client.get(f"/v1/jobs/{job_id}")).json()["status"] not in TERMINAL:
        await asyncio.sleep(0.1)


async def storm(stack: Stack, *, owner: str, other: str, plan: StormPlan) -> StormResult:
    """Run the storm on ``stack`` (one worker, keys for both owners); see the module doc."""
    result = StormResult()
    async with _client(stack, owner) as mine, _client(stack, other) as theirs:
        blocker = await _submit(mine, sleep_s=60, steps=600)
        followed = [
            await _submit(mine, sleep_s=plan.job_sleep_s, steps=plan.job_steps)
            for _ in range(plan.jobs)
        ]
        own_job = await _submit(theirs, sleep_s=0, steps=1)
        stop = asyncio.Event()
        background = asyncio.create_task(other_owner(theirs, own_job, result, stop))
        started = time.monotonic()
        subscribers: list[tuple[str, str, asyncio.Task[Events]]] = []
        firsts: list[asyncio.Event] = []
        for index in range(plan.sse + plan.ws):
            job_id = followed[index % plan.jobs]
            first = asyncio.Event()
            firsts.append(first)
            if index < plan.sse:
                task = asyncio.create_task(follow_sse(mine, job_id, first))
                subscribers.append(("sse", job_id, task))
            else:
                url = stack.ws_url(f"/v1/jobs/{job_id}/ws")
                task = asyncio.create_task(follow_ws(url, stack.api_keys[owner], first))
                subscribers.append(("ws", job_id, task))
        try:
            async with asyncio.timeout(plan.timeout_s):
                await asyncio.gather(*(first.wait() for first in firsts))
                result.connect_s = time.monotonic() - started
                assert (await mine.delete(f"/v1/jobs/{blocker}")).status_code == 202
                await asyncio.gather(*(task for _, _, task in subscribers))
                for job_id in followed:  # with no subscribers (a baseline): until they end
                    await _until_terminal(mine, job_id)
                result.storm_s = time.monotonic() - started
        finally:
            stop.set()
            await background
            for _, _, task in subscribers:
                task.cancel()
        for kind, job_id, task in subscribers:
            result.received.setdefault(job_id, []).append((kind, task.result()))
        for job_id in followed:
            result.stored[job_id] = [event async for event in sse_events(mine, job_id)]
    return result


@dataclass
class Sampler:
    """Samples the gateway's memory and Redis's connected clients in a thread."""

    gateway_pid: int
    redis_client: redis.Redis
    interval_s: float = 0.05
    rss_mb: list[float] = field(default_factory=list)
    clients: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        self.rss_mb.append(psutil.Process(self.gateway_pid).memory_info().rss / 2**20)
        self.clients.append(int(self.redis_client.info("clients")["connected_clients"]))

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()
